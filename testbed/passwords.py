"""HTTP Basic auth passwords (security profiles 1 and 2): one for every charge point, one per
charge point, or both (a charge point's own password wins).

Passwords are bytes: the security whitepaper's AuthorizationKey may be any 16-20 bytes, set over
OCPP in hexadecimal. When the CSMS sends ChangeConfiguration(AuthorizationKey) through the control
API and the charge point answers Accepted, the new key is that charge point's password from then on
and the old one is refused (whitepaper A01.FR.03). Passwords are never logged nor shown by the API.
"""

from __future__ import annotations

import csv
import hmac
from pathlib import Path


def read_passwords_file(path: str) -> dict[str, bytes]:
    """``id,password`` lines (CSV; ``#`` comment lines); raise ValueError without the password."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read passwords file {path!r}: {exc.strerror or exc}") from None
    passwords: dict[str, bytes] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row = next(csv.reader([line]))
        if len(row) < 2 or not row[0].strip() or not row[1]:
            raise ValueError(f"{path}:{number}: expected 'id,password'")
        passwords[row[0].strip()] = row[1].encode("utf-8")
    return passwords


class Passwords:
    """Which password each charge point must present (None: no Basic auth required)."""

    def __init__(self, everyone: str | None = None, per_cp: dict[str, bytes] | None = None) -> None:
        self.everyone = everyone.encode("utf-8") if everyone is not None else None
        self._initial = dict(per_cp or {})
        self.per_cp = dict(self._initial)

    def expected(self, cp_id: str) -> bytes | None:
        return self.per_cp.get(cp_id, self.everyone)

    def check(self, cp_id: str, user: str | None, given: bytes | None) -> bool:
        expected = self.expected(cp_id)
        if expected is None:
            return True
        return user == cp_id and given is not None and hmac.compare_digest(given, expected)

    def set(self, cp_id: str, password: bytes) -> None:
        self.per_cp[cp_id] = password

    def forget(self, cp_id: str) -> bool:
        return self.per_cp.pop(cp_id, None) is not None

    def authorization_key_accepted(self, cp_id: str, value: object) -> bool:
        """A01.FR.03: the charge point accepted ``value`` as its AuthorizationKey (hexadecimal)."""
        if not isinstance(value, str):
            return False
        try:
            key = bytes.fromhex(value.strip())
        except ValueError:
            return False
        if not key:
            return False
        self.per_cp[cp_id] = key
        return True

    def reset(self) -> None:
        self.per_cp = dict(self._initial)
