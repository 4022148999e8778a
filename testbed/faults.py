"""Fault switches: deliberate misbehaviour of the CSMS, one active at a time.

Every fault is decided here.  The session consults this module at its frame I/O
points only (handshake, each received frame, each reply, each API-initiated call);
the OCPP handlers never know about faults.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from testbed import rawframes, robust_faults
from testbed.ca import BAD_CERTIFICATES
from testbed.frames import CallErrorInfo, Reply, dumps, reply_frame, result_frame
from testbed.validation import error, response_problem


@dataclass(frozen=True)
class Arg:
    kind: Literal["int", "number", "str", "bool", "object"]
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    """For a ``str``: the values allowed."""


_ACTION = Arg("str")
_ON = Arg("str", required=True, choices=tuple(robust_faults.TRIGGERS))
_ROBUST_ON = "; on: " + ", ".join(robust_faults.TRIGGERS)

SPECS: dict[str, tuple[str, dict[str, Arg]]] = {
    "accept_all_tags": ("every idTagInfo.status is Accepted (Authorize/StartTransaction/StopTransaction)", {}),
    "reject_all_tags": ("every idTagInfo.status is Invalid (Authorize/StartTransaction/StopTransaction)", {}),
    "omit_transaction_id": ("StartTransaction responses lack transactionId", {}),
    "wrong_error_code": ("CALLERRORs for unknown actions / invalid requests use GenericError", {}),
    "close_after": (
        "{count}: close with 1011 when the count-th frame from a charge point (counted "
        "per charge point since the fault was set) arrives, unanswered",
        {"count": Arg("int", required=True)},
    ),
    "late_answer": (
        "{seconds, action?}: delay responses (to action, or all) by seconds",
        {"seconds": Arg("number", required=True), "action": _ACTION},
    ),
    "malformed_frame": ("{action?}: answer with a non-JSON text frame", {"action": _ACTION}),
    "wrong_message_id": ("{action?}: answer with an unknown message id", {"action": _ACTION}),
    "no_answer": ("{action?}: never answer", {"action": _ACTION}),
    "refuse_subprotocol": ("complete the handshake without a Sec-WebSocket-Protocol header", {}),
    "only_subprotocol": (
        "{subprotocol}: agree only to this subprotocol (e.g. ocpp2.0.1); without it in the offer, HTTP 400",
        {"subprotocol": Arg("str", required=True)},
    ),
    "accept_any_credentials": ("with --basic-auth-password: let in wrong and missing credentials too", {}),
    "override_call": (
        "{action, payload}: deep-merge payload into the CSMS-initiated action's CALL payload before it is "
        "sent (a null value removes the field)",
        {"action": Arg("str", required=True), "payload": Arg("object", required=True)},
    ),
    "override_response": (
        "{action, payload, merge=true}: deep-merge (or replace) the response payload of action",
        {
            "action": Arg("str", required=True),
            "payload": Arg("object", required=True),
            "merge": Arg("bool", default=True),
        },
    ),
    "callerror": (
        "{action?, code=InternalError, description?, details?, vary=false}: answer with that CALLERROR "
        "(vary: a different description each time, its number appended)",
        {
            "action": _ACTION,
            "code": Arg("str", default="InternalError"),
            "description": Arg("str", default=""),
            "details": Arg("object", default={}),
            "vary": Arg("bool", default=False),
        },
    ),
    "schema_invalid_response": ("{action?}: answer with a schema-invalid payload", {"action": _ACTION}),
    "ignore_trigger": (
        '{action?}: POST /cps/{id}/{Action} sends nothing, answers {"result": null, "ignored": true}',
        {"action": _ACTION},
    ),
    "send_malformed_call": (
        "{action?}: POST /cps/{id}/{Action} sends a non-JSON text frame instead of the CALL",
        {"action": _ACTION},
    ),
    "drop_on_boot": ("close the connection (1011) when a BootNotification arrives, unanswered", {}),
    "no_pong": ("answer no WebSocket ping with a pong (RFC 6455 §5.5.2 says it MUST): a peer that is gone", {}),
    "unsolicited_result": (
        "{action?}: after each answer also send a CALLRESULT with an unknown id",
        {"action": _ACTION},
    ),
    "extra_frame": (
        "{kind, action?}: after each answer also send one frame that is not valid OCPP-J: not_json, "
        "not_array, binary (a binary frame), duplicate (the same answer again), unknown_id (a CALLRESULT "
        "with an unknown id)",
        {"kind": Arg("str", required=True), "action": _ACTION},
    ),
    "length_bomb": (
        "{action?, size=2**40, limit=268435456}: instead of the answer, a text frame header announcing "
        "size bytes, then filler bytes (at most limit) as fast as the charge point takes them",
        {"action": _ACTION, "size": Arg("int", default=1 << 40), "limit": Arg("int", default=1 << 28)},
    ),
    "masked_frame": (
        "{action?}: send the answer as a masked frame (RFC 6455 §5.1: a server MUST NOT mask)",
        {"action": _ACTION},
    ),
    "reserved_bits": (
        "{action?}: send the answer with RSV1 set though no extension was agreed (RFC 6455 §5.2)",
        {"action": _ACTION},
    ),
    "long_message_id": (
        "{length=40, action?}: POST /cps/{id}/{Action} sends its CALL with a message id of length "
        "characters (OCPP-J: at most 36)",
        {"length": Arg("int", default=40), "action": _ACTION},
    ),
    "unreadable_message_id": (
        "{action?}: POST /cps/{id}/{Action} sends its CALL with a number as message id",
        {"action": _ACTION},
    ),
    "repeat_call": (
        "{action?, times=2}: POST /cps/{id}/{Action} sends its CALL times times back to back (each with "
        "its own id, none waiting for an answer: OCPP-J allows one outstanding CALL); the first one's "
        "answer is returned",
        {"action": _ACTION, "times": Arg("int", default=2)},
    ),
    "bad_certificate": (
        "{kind}: the CA's CertificateSigned.req carries a certificate a charger must refuse: "
        + ", ".join(BAD_CERTIFICATES),
        {"kind": Arg("str", required=True)},
    ),
    "keep_old_password": (
        "after a ChangeConfiguration(AuthorizationKey) the charge point Accepts, keep its old Basic auth "
        "password (the new key is refused: breaks whitepaper A01.FR.03)",
        {},
    ),
    "refuse_security_profile": (
        "{profile}: refuse the handshake (HTTP 401) of connections made with this security profile (0-3)",
        {"profile": Arg("int", required=True)},
    ),
    # The robustness suite's faults (testbed/robust_faults.py): what a hostile input does to the CSMS.
    "crash_on": ("{on}: the CSMS process exits at once when that kind of input arrives" + _ROBUST_ON, {"on": _ON}),
    "hang_on": (
        "{on, scope=connection}: stop answering that connection (scope all: every connection) once that kind "
        "of input arrives; the socket stays open" + _ROBUST_ON,
        {"on": _ON, "scope": Arg("str", default="connection", choices=robust_faults.SCOPES)},
    ),
    "accept_on": ("{on}: skip validation and answer that kind of input as if it were valid" + _ROBUST_ON, {"on": _ON}),
    "degrade_on": (
        "{on, delay=1.0, duration=5.0}: for duration seconds after that kind of input, every answer to every "
        "charge point waits delay seconds" + _ROBUST_ON,
        {"on": _ON, "delay": Arg("number", default=1.0), "duration": Arg("number", default=5.0)},
    ),
}

EXTRA_FRAME_KINDS = ("not_json", "not_array", "binary", "duplicate", "unknown_id")

CLOSE_CODE = 1011


def _check_arg(fault: str, name: str, arg: Arg, value: Any) -> Any:
    ok = {
        "int": type(value) is int,
        "number": type(value) in (int, float),
        "str": isinstance(value, str),
        "bool": isinstance(value, bool),
        "object": isinstance(value, dict),
    }[arg.kind]
    if not ok:
        raise ValueError(f"fault {fault}: {name} must be of type {arg.kind}")
    if name == "count" and value < 1:
        raise ValueError(f"fault {fault}: count must be >= 1")
    if name == "kind" and fault == "extra_frame" and value not in EXTRA_FRAME_KINDS:
        raise ValueError(f"fault {fault}: kind must be one of {', '.join(EXTRA_FRAME_KINDS)}")
    if name == "size" and not 1 <= value < 1 << 63:
        raise ValueError(f"fault {fault}: size must be between 1 and 2**63-1")
    if name == "limit" and not 0 <= value <= 1 << 34:
        raise ValueError(f"fault {fault}: limit must be between 0 and 2**34")
    if name == "times" and not 1 <= value <= 100:
        raise ValueError(f"fault {fault}: times must be between 1 and 100")
    if name == "length" and not 1 <= value <= 100_000:
        raise ValueError(f"fault {fault}: length must be between 1 and 100000")
    if name == "seconds" and not 0 <= value <= 3600:
        raise ValueError(f"fault {fault}: seconds must be between 0 and 3600")
    if name == "kind" and fault == "bad_certificate" and value not in BAD_CERTIFICATES:
        raise ValueError(f"fault {fault}: kind must be one of {', '.join(BAD_CERTIFICATES)}")
    if name == "profile" and not 0 <= value <= 3:
        raise ValueError(f"fault {fault}: profile must be 0, 1, 2 or 3")
    if name in ("delay", "duration") and not 0 <= value <= 600:
        raise ValueError(f"fault {fault}: {name} must be between 0 and 600")
    if arg.choices and value not in arg.choices:
        raise ValueError(f"fault {fault}: {name} must be one of {', '.join(arg.choices)}")
    return value


def parse_fault(body: Any) -> dict[str, Any]:
    """Validate ``{"name": ..., **args}``; return it with defaults filled in."""
    if not isinstance(body, dict):
        raise ValueError("fault must be a JSON object with a 'name'")
    name = body.get("name")
    if not isinstance(name, str) or name not in SPECS:
        raise ValueError(f"unknown fault {name!r}; available: {', '.join(SPECS)}")
    specs = SPECS[name][1]
    unknown = sorted(set(body) - set(specs) - {"name"})
    if unknown:
        raise ValueError(f"fault {name}: unknown argument(s) {', '.join(unknown)}")
    result: dict[str, Any] = {"name": name}
    for arg_name, arg in specs.items():
        if arg_name in body and body[arg_name] is not None:
            result[arg_name] = _check_arg(name, arg_name, arg, body[arg_name])
        elif arg.required:
            raise ValueError(f"fault {name}: argument {arg_name!r} is required")
        elif arg.default is not None:
            result[arg_name] = copy.deepcopy(arg.default)
    return result


def merge_call(base: Any, patch: Any) -> Any:
    """``patch`` deep-merged into ``base``; a None in ``patch`` removes that field."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = merge_call(base.get(key), value)
        return merged
    return copy.deepcopy(patch)


def deep_merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            merged[key] = deep_merge(base.get(key), value)
        return merged
    return copy.deepcopy(patch)


_CORRUPTIONS: dict[str, dict[str, Any]] = {
    "BootNotification": {"status": "OK"},
    "StartTransaction": {"transactionId": "abc"},
    "Authorize": {"idTagInfo": {"status": "OK"}},
    "StopTransaction": {"idTagInfo": {"status": "OK"}},
    "DataTransfer": {"status": "OK"},
}


def corrupt(action: str | None, payload: Any) -> Any:
    """A schema-invalid variant of a valid response payload."""
    if action == "Heartbeat" and isinstance(payload, dict):
        candidate: Any = {k: v for k, v in payload.items() if k != "currentTime"}
    elif action in _CORRUPTIONS:
        candidate = deep_merge(payload, _CORRUPTIONS[action])
    else:
        candidate = deep_merge(payload, {"unexpectedField": True})
    if action is None or response_problem(action, candidate) is None:
        candidate = []  # not even an object
    return candidate


@dataclass(frozen=True)
class Raw:
    """Bytes written to the connection as they are, past the WebSocket library (a broken frame)."""

    data: bytes


@dataclass(frozen=True)
class Bomb:
    """A text frame header announcing ``size`` bytes, then at most ``limit`` filler bytes."""

    size: int
    limit: int


Out = str | bytes | Raw | Bomb
"""One thing to send: a text frame (str), a binary frame (bytes), raw bytes, a length bomb."""


@dataclass
class Plan:
    """What to put on the wire for one CALL: optional delay, then these in order."""

    frames: list[Out] = field(default_factory=list)
    delay: float = 0.0


def _extra(kind: str, unique_id: str, reply: Reply) -> Out:
    if kind == "not_json":
        return '[3,"oops" {not json'
    if kind == "not_array":
        return '{"messageTypeId": 3, "note": "an object, not an array"}'
    if kind == "binary":
        return b"\x00\x01binary\xff"
    if kind == "duplicate":
        return reply_frame(unique_id, reply)
    return result_frame(str(uuid.uuid4()), {})


def _set_tag_status(payload: Any, status: str) -> Any:
    if isinstance(payload, dict) and isinstance(payload.get("idTagInfo"), dict):
        info = {k: v for k, v in payload["idTagInfo"].items() if status != "Accepted" or k != "expiryDate"}
        info["status"] = status
        return {**payload, "idTagInfo": info}
    return payload


class FaultSwitch:
    """Holds the single active fault and answers the interception hooks."""

    def __init__(self, initial: dict[str, Any] | None = None) -> None:
        self.active: dict[str, Any] | None = None
        self._seen: dict[str, int] = {}
        self._replies = 0
        self.set(initial)

    @staticmethod
    def available() -> dict[str, str]:
        return {name: spec[0] for name, spec in SPECS.items()}

    def set(self, fault: dict[str, Any] | None) -> None:
        self.active = copy.deepcopy(fault)
        self._seen = {}
        self._replies = 0

    def reset(self) -> None:
        """POST /reset clears faults (even one given on the command line)."""
        self.set(None)

    def _is(self, name: str, action: str | None = None) -> bool:
        fault = self.active
        if fault is None or fault["name"] != name:
            return False
        wanted = fault.get("action")
        return wanted is None or wanted == action

    # --- hooks -----------------------------------------------------------------

    def refuse_subprotocol(self) -> bool:
        return self._is("refuse_subprotocol")

    def only_subprotocol(self) -> str | None:
        """The one subprotocol the fault lets the server agree to, or None."""
        if self.active is None or self.active["name"] != "only_subprotocol":
            return None
        return str(self.active["subprotocol"])

    def accept_any_credentials(self) -> bool:
        return self._is("accept_any_credentials")

    def bad_certificate(self) -> str | None:
        """The kind of bad certificate the CA is to send, or None."""
        if self.active is None or self.active["name"] != "bad_certificate":
            return None
        return str(self.active["kind"])

    def keep_old_password(self) -> bool:
        return self._is("keep_old_password")

    def refuse_profile(self, profile: int) -> bool:
        fault = self.active
        return fault is not None and fault["name"] == "refuse_security_profile" and fault["profile"] == profile

    def outbound_payload(self, action: str, payload: Any) -> Any:
        """The payload of a CSMS-initiated call as the fault alters it."""
        if self._is("override_call", action) and self.active is not None:
            return merge_call(payload, self.active["payload"])
        return payload

    def close_on_frame(self, cp_id: str) -> bool:
        """Called for every frame received from a charge point."""
        if not self._is("close_after") or self.active is None:
            return False
        seen = self._seen[cp_id] = self._seen.get(cp_id, 0) + 1
        return bool(seen == self.active["count"])

    def no_pong(self) -> bool:
        return self._is("no_pong")

    def close_on_call(self, action: str | None) -> bool:
        return self._is("drop_on_boot") and action == "BootNotification"

    def repeats(self, action: str) -> int:
        """How many times a CSMS-initiated CALL goes out (1 unless fault repeat_call)."""
        if self._is("repeat_call", action) and self.active is not None:
            return int(self.active["times"])
        return 1

    def outbound_id(self, action: str, unique_id: str) -> str | int:
        """The message id of a CSMS-initiated CALL as the fault spoils it."""
        if self._is("long_message_id", action) and self.active is not None:
            length = int(self.active["length"])
            return (unique_id * (length // len(unique_id) + 1))[:length]
        if self._is("unreadable_message_id", action):
            return int(uuid.UUID(unique_id)) % 10**9
        return unique_id

    def outbound_mode(self, action: str) -> Literal["send", "ignore", "garbage"]:
        if self._is("ignore_trigger", action):
            return "ignore"
        if self._is("send_malformed_call", action):
            return "garbage"
        return "send"

    def plan_reply(self, action: str | None, unique_id: str, reply: Reply) -> Plan:
        fault = self.active
        if fault is None or (fault.get("action") is not None and fault["action"] != action):
            return Plan([reply_frame(unique_id, reply)])
        name = fault["name"]
        is_result = reply.error is None
        if name in ("accept_all_tags", "reject_all_tags") and is_result:
            status = "Accepted" if name == "accept_all_tags" else "Invalid"
            reply = Reply(payload=_set_tag_status(reply.payload, status))
        elif name == "omit_transaction_id" and is_result and action == "StartTransaction":
            reply = Reply(payload={k: v for k, v in reply.payload.items() if k != "transactionId"})
        elif name == "wrong_error_code" and reply.error is not None:
            reply = Reply(error=error("GenericError", reply.error.details.get("cause")))
        elif name == "override_response" and is_result:
            new = deep_merge(reply.payload, fault["payload"]) if fault["merge"] else fault["payload"]
            reply = Reply(payload=copy.deepcopy(new))
        elif name == "callerror":
            self._replies += 1
            description = fault["description"] + (f" #{self._replies}" if fault.get("vary") else "")
            reply = Reply(error=CallErrorInfo(fault["code"], description, copy.deepcopy(fault["details"])))
        elif name == "schema_invalid_response" and is_result:
            reply = Reply(payload=corrupt(action, reply.payload))
        elif name == "late_answer":
            return Plan([reply_frame(unique_id, reply)], delay=float(fault["seconds"]))
        elif name == "malformed_frame":
            return Plan([f"[3,{json.dumps(unique_id)},{{oops"])
        elif name == "wrong_message_id":
            return Plan([reply_frame(str(uuid.uuid4()), reply)])
        elif name == "no_answer":
            return Plan([])
        elif name == "unsolicited_result":
            return Plan([reply_frame(unique_id, reply), result_frame(str(uuid.uuid4()), {})])
        elif name == "extra_frame":
            return Plan([reply_frame(unique_id, reply), _extra(fault["kind"], unique_id, reply)])
        elif name == "length_bomb":
            return Plan([Bomb(int(fault["size"]), int(fault["limit"]))])
        elif name in ("masked_frame", "reserved_bits"):
            data = reply_frame(unique_id, reply).encode("utf-8")
            masked = name == "masked_frame"
            return Plan([Raw(rawframes.frame(rawframes.TEXT, data, masked=masked, rsv=0 if masked else 0x40))])
        return Plan([reply_frame(unique_id, reply)])

    @staticmethod
    def garbage_call(unique_id: str, action: str) -> str:
        return f"[2,{dumps(unique_id)},{dumps(action)},{{garbage"
