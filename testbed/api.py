"""Routes of the HTTP control API (JSON in, JSON out)."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

from testbed.ca import BAD_CERTIFICATES, certificate_hash_data
from testbed.faults import FaultSwitch, parse_fault
from testbed.frames import error_payload
from testbed.httpserver import HttpRequest, HttpResponse
from testbed.registry import Registry
from testbed.session import CallOutcome
from testbed.state import Store
from testbed.tags import make_entry

DEFAULT_CALL_TIMEOUT = 30.0
MAX_CALL_TIMEOUT = 3600.0
_VALID_CLOSE_CODES = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json_body(request: HttpRequest, empty: Any = None) -> Any:
    if not request.body.strip():
        return {} if empty is None else empty
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "request body is not valid JSON") from None


def _object_body(request: HttpRequest) -> dict[str, Any]:
    body = _json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    return body


def _float_param(request: HttpRequest, name: str, default: float) -> float:
    text = request.query.get(name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ApiError(400, f"query parameter {name} must be a number") from None
    if not math.isfinite(value) or not 0 < value <= MAX_CALL_TIMEOUT:
        raise ApiError(400, f"query parameter {name} must be > 0 and <= {MAX_CALL_TIMEOUT:g}")
    return value


def _outcome_response(outcome: CallOutcome) -> HttpResponse:
    if outcome.kind == "result":
        return HttpResponse(200, {"result": outcome.payload})
    if outcome.kind == "error" and outcome.error is not None:
        err = error_payload(outcome.error)
        return HttpResponse(
            200,
            {
                "error": {
                    "code": err["errorCode"],
                    "description": err["errorDescription"],
                    "details": err["errorDetails"],
                }
            },
        )
    if outcome.kind == "sent":
        return HttpResponse(202, {"sent": True, "id": outcome.unique_id})
    if outcome.kind == "ignored":
        return HttpResponse(200, {"result": None, "ignored": True})
    if outcome.kind == "garbage":
        return HttpResponse(200, {"sent_garbage": True})
    if outcome.kind == "timeout":
        return HttpResponse(504, {"error": "timeout"})
    return HttpResponse(502, {"error": "connection closed before an answer arrived"})


class ControlApi:
    def __init__(self, store: Store, faults: FaultSwitch, registry: Registry) -> None:
        self.store = store
        self.faults = faults
        self.registry = registry

    async def handle(self, request: HttpRequest) -> HttpResponse:
        try:
            return await self._route(request)
        except ApiError as exc:
            return HttpResponse(exc.status, {"error": str(exc)})

    async def _route(self, request: HttpRequest) -> HttpResponse:
        method, segs = request.method, request.segments
        match segs:
            case ["health"]:
                self._allow(method, "GET")
                return HttpResponse(200, {"ok": True})
            case ["cps"]:
                self._allow(method, "GET")
                return HttpResponse(200, {"cps": {k: v.to_json() for k, v in self.store.cps.items()}})
            case ["connections"]:
                self._allow(method, "GET")
                return HttpResponse(200, {"connections": self.registry.open_connections()})
            case ["cps", cp_id]:
                self._allow(method, "GET")
                return HttpResponse(200, self._record(cp_id).to_json())
            case ["cps", cp_id, "messages"]:
                self._allow(method, "GET", "DELETE")
                record = self._record(cp_id)
                if method == "DELETE":
                    record.messages.clear()
                    return HttpResponse(200, {"cleared": True})
                return HttpResponse(200, {"messages": [m.to_json() for m in record.messages]})
            case ["cps", cp_id, "disconnect"]:
                self._allow(method, "POST")
                return await self._disconnect(cp_id, request)
            case ["cps", cp_id, "password"]:
                self._allow(method, "PUT", "DELETE")
                return self._password(cp_id, request)
            case ["cps", cp_id, "ca", "sign"]:
                self._allow(method, "POST")
                return await self._sign(cp_id, request)
            case ["certificates", "hash-data"]:
                self._allow(method, "POST")
                return self._hash_data(request)
            case ["cps", cp_id, action]:
                self._allow(method, "POST")
                return await self._call(cp_id, action, request)
            case ["tags"]:
                self._allow(method, "GET")
                return HttpResponse(200, {"tags": self.store.tags.statuses()})
            case ["tags", tag]:
                self._allow(method, "PUT", "DELETE")
                return self._tag(tag, request)
            case ["config"]:
                self._allow(method, "GET", "PATCH")
                if method == "PATCH":
                    try:
                        self.store.patch_config(_object_body(request))
                    except ValueError as exc:
                        raise ApiError(400, str(exc)) from None
                return HttpResponse(200, self.store.config_json())
            case ["transactions"]:
                self._allow(method, "GET")
                return HttpResponse(200, {"transactions": [t.to_json() for t in self.store.transactions.values()]})
            case ["faults"]:
                self._allow(method, "GET", "PUT", "DELETE")
                return self._faults(request)
            case ["reset"]:
                self._allow(method, "POST")
                self.store.reset()
                self.faults.reset()
                return HttpResponse(200, {"reset": True})
        raise ApiError(404, f"no such route: {request.method} {request.target}")

    @staticmethod
    def _allow(method: str, *allowed: str) -> None:
        if method not in allowed:
            raise ApiError(405, f"method {method} not allowed here (use {', '.join(allowed)})")

    def _record(self, cp_id: str) -> Any:
        record = self.store.cps.get(cp_id)
        if record is None:
            raise ApiError(404, f"unknown charge point {cp_id!r}")
        return record

    async def _call(self, cp_id: str, action: str, request: HttpRequest) -> HttpResponse:
        payload = _json_body(request)
        timeout = _float_param(request, "timeout", DEFAULT_CALL_TIMEOUT)
        wait = request.query.get("wait", "1").strip().lower() not in ("0", "false", "no")
        session = self.registry.get(cp_id)
        if session is None or session.closing:
            raise ApiError(404, "not connected")
        return _outcome_response(await session.send_call(action, payload, timeout, wait))

    async def _disconnect(self, cp_id: str, request: HttpRequest) -> HttpResponse:
        try:
            code = int(request.query.get("code", "1000"))
        except ValueError:
            raise ApiError(400, "code must be an integer") from None
        if code not in _VALID_CLOSE_CODES and not 3000 <= code <= 4999:
            raise ApiError(400, f"{code} is not a close code an endpoint may send")
        session = self.registry.get(cp_id)
        if session is None:
            raise ApiError(404, "not connected")
        session.closing = True
        try:
            await asyncio.wait_for(session.ws.close(code, "closed via control API"), 10)
        except TimeoutError:
            pass
        return HttpResponse(200, {"closed": True})

    def _password(self, cp_id: str, request: HttpRequest) -> HttpResponse:
        """PUT {"password": text} or {"password_hex": hex}: the Basic auth password this charge point
        must present from its next connection on; DELETE: back to --basic-auth-password. Never echoed."""
        passwords = self.store.passwords
        if request.method == "DELETE":
            return HttpResponse(200, {"password_set": False, "forgotten": passwords.forget(cp_id)})
        body = _object_body(request)
        text, hex_text = body.get("password"), body.get("password_hex")
        try:
            if isinstance(text, str) and text:
                password = text.encode("utf-8")
            elif isinstance(hex_text, str) and hex_text:
                password = bytes.fromhex(hex_text)
            else:
                raise ValueError
        except ValueError:
            raise ApiError(400, "body must contain a non-empty 'password' or a hexadecimal 'password_hex'") from None
        passwords.set(cp_id, password)
        return HttpResponse(200, {"password_set": True})

    async def _sign(self, cp_id: str, request: HttpRequest) -> HttpResponse:
        """Sign the charge point's last CSR with the testbed's CA and send it in a
        CertificateSigned.req (body {"kind": ...} sends a bad certificate of that kind)."""
        if self.store.ca is None:
            raise ApiError(409, "the testbed has no CA (start it with --ca-cert and --ca-key)")
        record = self._record(cp_id)
        if record.csr is None:
            raise ApiError(409, "no CSR received from this charge point")
        kind = _object_body(request).get("kind")
        if kind is not None and kind not in BAD_CERTIFICATES:
            raise ApiError(400, f"kind must be one of {', '.join(BAD_CERTIFICATES)}")
        timeout = _float_param(request, "timeout", DEFAULT_CALL_TIMEOUT)
        session = self.registry.get(cp_id)
        if session is None or session.closing:
            raise ApiError(404, "not connected")
        return _outcome_response(await session.send_certificate(kind, timeout))

    @staticmethod
    def _hash_data(request: HttpRequest) -> HttpResponse:
        """{"certificate": PEM, "issuer": PEM?, "hashAlgorithm": "SHA256"?}: its CertificateHashData,
        as this CSMS computes it (independently of any charge point)."""
        body = _object_body(request)
        certificate, issuer = body.get("certificate"), body.get("issuer")
        algorithm = body.get("hashAlgorithm", "SHA256")
        if not isinstance(certificate, str) or (issuer is not None and not isinstance(issuer, str)):
            raise ApiError(400, "body must contain a PEM 'certificate' (and optionally a PEM 'issuer')")
        try:
            return HttpResponse(200, certificate_hash_data(certificate, issuer, str(algorithm)))
        except ValueError as exc:
            raise ApiError(400, str(exc).splitlines()[0][:200]) from None

    def _tag(self, tag: str, request: HttpRequest) -> HttpResponse:
        if request.method == "DELETE":
            if not self.store.tags.remove(tag):
                raise ApiError(404, f"unknown tag {tag!r}")
            return HttpResponse(200, {"deleted": True})
        body = _object_body(request)
        status = body.get("status")
        expiry = body.get("expiry_date", body.get("expiryDate"))
        parent = body.get("parent_id_tag", body.get("parentIdTag"))
        if not isinstance(status, str):
            raise ApiError(400, "body must contain a string 'status'")
        if expiry is not None and not isinstance(expiry, str):
            raise ApiError(400, "expiry_date must be a string")
        if parent is not None and not isinstance(parent, str):
            raise ApiError(400, "parent_id_tag must be a string")
        try:
            entry = make_entry(tag, status, expiry, parent)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        self.store.tags.put(entry)
        return HttpResponse(
            200,
            {
                "tag": entry.tag,
                "status": entry.status,
                "expiry_date": entry.expiry_date,
                "parent_id_tag": entry.parent_id_tag,
            },
        )

    def _faults(self, request: HttpRequest) -> HttpResponse:
        if request.method == "PUT":
            try:
                self.faults.set(parse_fault(_json_body(request)))
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
        elif request.method == "DELETE":
            self.faults.set(None)
        return HttpResponse(200, {"active": self.faults.active, "available": self.faults.available()})
