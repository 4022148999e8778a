"""Text a peer chose, made safe to show: escaped, bounded, never a stats row name.

A CSMS decides what its CALLERROR descriptions, close reasons, handshake answers and property
names say. None of that goes into a failure's name (Locust groups failures by it: a CSMS could
make one row per message); it goes into the failure's detail and into the logs, through
:func:`sanitize`: control characters escaped (so no text can forge a log line or a terminal
sequence) and cut to a bounded length.
"""

from __future__ import annotations

DETAIL_LIMIT = 200
"""Characters of peer text kept in a detail (an error's ``detail``, a log line)."""

_UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def _escape(char: str) -> str:
    code = ord(char)
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    if char == "\t":
        return "\\t"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _unsafe(char: str) -> bool:
    code = ord(char)
    # C0 and C1 controls, DEL, the Unicode line/paragraph separators and the bidirectional
    # overrides (which reorder what a terminal shows).
    return (
        code < 0x20
        or 0x7F <= code <= 0x9F
        or code in (0x2028, 0x2029)
        or 0x202A <= code <= 0x202E
        or 0x2066 <= code <= 0x2069
    )


def sanitize(value: object, limit: int = DETAIL_LIMIT) -> str:
    """``value`` as one printable line of at most about ``limit`` characters.

    Bytes are decoded as UTF-8 (invalid bytes replaced); control characters are escaped
    (``\\n``, ``\\x1b``); a longer text is cut and says how long it was.
    """
    if isinstance(value, bytes | bytearray):
        text = bytes(value[: limit * 4]).decode("utf-8", "replace")
        whole, unit, cut = len(value), "bytes", len(value) > limit * 4
    else:
        text = value if isinstance(value, str) else str(value)
        whole, unit, cut = len(text), "characters", False
    out: list[str] = []
    used = 0
    for char in text:
        piece = _escape(char) if _unsafe(char) else char
        if used + len(piece) > limit:
            cut = True
            break
        out.append(piece)
        used += len(piece)
    if cut:
        out.append(f"... ({whole} {unit} in all)")
    return "".join(out)


def size_text(size: int) -> str:
    """A byte count as people read it: ``1 MiB``, ``512 KiB``, ``1.5 GiB``, ``300 bytes``."""
    value = float(size)
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            if unit == "bytes":
                return f"{size} bytes"
            return f"{value:.1f}".rstrip("0").rstrip(".") + f" {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


def size_class(size: int) -> str:
    """A bounded name for a size: the power of two at or below it (``at least 1 TiB``).

    A failure name that carried the exact size would give a CSMS one stats row per size it
    announces; a power of two gives at most 64."""
    if size <= 0:
        return "0 bytes"
    return f"at least {size_text(1 << (size.bit_length() - 1))}"


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20}
_SIZE_UNITS |= {"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}
MIN_FRAME_SIZE = 1024
MAX_FRAME_SIZE = 1 << 30


def frame_size(text: str) -> int:
    """A message size limit in bytes from ``1048576``, ``1MiB``, ``512 KiB`` or ``4M`` (K, M and G
    are powers of 1024), between 1 KiB and 1 GiB; raise ValueError with one line."""
    text = text.strip()
    number = text.rstrip("bBiIkKmMgG ").strip()
    unit = text[len(number) :].strip().lower()
    try:
        size = int(float(number) * _SIZE_UNITS[unit])
    except (ValueError, KeyError, OverflowError):
        raise ValueError(f"expected a size in bytes (e.g. 1048576 or 1MiB), not {text!r}") from None
    if not MIN_FRAME_SIZE <= size <= MAX_FRAME_SIZE:
        raise ValueError(f"must be between 1 KiB and 1 GiB, not {text!r}")
    return size
