"""abuse.message_flood: --flood-count Heartbeats sent at once, none waiting for its answer."""

from __future__ import annotations

from collections import Counter

from scenarios.robustness.base import RobustCase, register
from scenarios.robustness.context import RobustContext, dumps
from scenarios.robustness.expect import CLOSE_ALLOWED, Custom
from scenarios.robustness.outcome import Outcome, Waits, observe

BATCH = 100


def _all_answered(outcome: Outcome) -> bool:
    return outcome.extra.get("answered") == outcome.extra.get("sent") and not outcome.extra.get("twice")


def _throttled(outcome: Outcome) -> bool:
    return outcome.kind == "closed" and not outcome.extra.get("twice")


def _some_dropped(outcome: Outcome) -> bool:
    return outcome.kind != "closed" and not outcome.extra.get("twice")


@register
class MessageFlood(RobustCase):
    case_id = "abuse.message_flood"
    title = "A flood of Heartbeats, none waiting for its answer"
    clause = "OCPP-J 1.6 §4.1.1"
    requirement = (
        "A Charge Point or Central System SHOULD NOT send a CALL message to the other party unless all the CALL "
        "messages it sent before have been responded to or have timed out. (A charger that breaks this, or a "
        "reconnect storm replaying queues, must not take the CSMS down or slow it for everyone.)"
    )
    sends = "--flood-count (default 500) Heartbeat CALLs back to back, in writes of 100, each with its own id"
    passed = (
        Custom("every Heartbeat answered once, with its own id", _all_answered),
        Custom("the connection closed (the CSMS throttles the flood)", _throttled, why=CLOSE_ALLOWED),
    )
    non_strict = (
        Custom("some Heartbeats left unanswered", _some_dropped, why="a CSMS may shed load it will not queue"),
    )
    bad_input = False
    order = 1

    def run(self, ctx: RobustContext) -> Outcome:
        count = ctx.options.flood_count
        ids = [ctx.new_id() for _ in range(count)]
        for start in range(0, count, BATCH):
            batch = ids[start : start + BATCH]
            if not ctx.send_texts(ctx.conn, [dumps([2, i, "Heartbeat", {}]) for i in batch], tuple(batch)):
                break
        waits = Waits(ctx.options.answer_timeout * 2, ctx.options.quick, ctx.options.grace)
        outcome = observe(ctx.conn, set(ids), waits, ctx.sentinels, want=count, sentinel=False)
        seen = Counter(a.message_id for a in outcome.answers)
        outcome.extra.update(sent=count, answered=len(seen), twice=sum(1 for n in seen.values() if n > 1))
        outcome.handshake = f"{len(seen)} of {count} Heartbeats answered"
        del outcome.answers[1:]  # (one answer stands for the rest in the report)
        return outcome
