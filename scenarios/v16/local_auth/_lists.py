"""What the SendLocalList cases share: the list the Tool asks for, and the checks on the one sent."""

from __future__ import annotations

from typing import Any

from scenarios.context import Context
from scenarios.results import Check

#: An idTag for the list when no --id-tag is given (the document leaves the list's content to the CSMS).
FALLBACK_TAG = "VOCPP-LOCAL-1"


def list_payload(ctx: Context, update_type: str, version: int = 1) -> dict[str, Any]:
    """A SendLocalList.req with one Accepted entry: the valid idTag."""
    tag = ctx.tags.valid or FALLBACK_TAG
    return {
        "listVersion": version,
        "updateType": update_type,
        "localAuthorizationList": [{"idTag": tag, "idTagInfo": {"status": "Accepted"}}],
    }


def check_entries(ctx: Context, payload: dict[str, Any], *, step: object) -> None:
    """ "All localAuthorizationList entries have an idTagInfo", on a list that has entries (the
    prerequisite: the CSMS "has at least 1 IdToken to add to the local authorization list")."""
    entries = payload.get("localAuthorizationList")
    entries = entries if isinstance(entries, list) else []
    ctx.record(
        Check(
            str(step),
            "SendLocalList.req",
            "localAuthorizationList",
            "at least 1 entry (prerequisite: at least 1 IdToken to add)",
            f"{len(entries)} entries",
            bool(entries),
        )
    )
    bare = [str(e.get("idTag")) for e in entries if isinstance(e, dict) and "idTagInfo" not in e]
    ctx.record(
        Check(
            str(step),
            "SendLocalList.req",
            "localAuthorizationList.idTagInfo",
            "an idTagInfo in every entry",
            f"none for {', '.join(bare)}" if bare else f"present in all {len(entries)}",
            not bare,
        )
    )
