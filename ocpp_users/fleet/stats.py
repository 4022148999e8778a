"""Stats that say one thing each: the overall (Aggregated) row holds the CSMS's round trips only.

Locust logs every request event into its total as well as its own row. The fleet fires events of
several kinds: round trips to the CSMS (our calls, WebSocket handshakes), our own handling time of
the CSMS's calls (``OCPP CSMS->CP``), and 0 ms events (protocol errors, calls never sent, a charge
point recorded as failed, a dropped connection). Only the first are a latency of the CSMS: the
others keep their own rows and their place in the failures and errors, but stay out of the total,
so that the Aggregated row and the overall ``--max-p95``/``--max-p99`` gates measure the CSMS.
"""

from __future__ import annotations

from locust.stats import RequestStats, StatsError

from ocpp_users.ocppj.sink import is_round_trip

_MARK = "_vocpp_round_trip_total"


def keep_total_to_round_trips(stats: RequestStats) -> None:
    """Make ``stats`` log into its total only the events :func:`is_round_trip` names (idempotent)."""
    if getattr(stats, _MARK, False):
        return
    setattr(stats, _MARK, True)
    log_request = stats.log_request
    log_error = stats.log_error

    def log_request_filtered(method: str, name: str, response_time: int, content_length: int) -> None:
        if is_round_trip(method, name):
            log_request(method, name, response_time, content_length)
        else:
            stats.get(name, method).log(response_time, content_length)

    def log_error_filtered(method: str, name: str, error: Exception | str | None) -> None:
        if is_round_trip(method, name):
            log_error(method, name, error)
            return
        stats.get(name, method).log_error(error)
        key = StatsError.create_key(method, name, error)
        entry = stats.errors.get(key)
        if entry is None:
            entry = stats.errors[key] = StatsError(method, name, error)
        entry.occurred()

    setattr(stats, "log_request", log_request_filtered)  # noqa: B010  (an instance's own method)
    setattr(stats, "log_error", log_error_filtered)  # noqa: B010
