"""Every invalid frame the CSMS sends, kept for the report of the case it came during.

The engine counts a frame that is not valid OCPP-J as a failed request event (a ``PROTOCOL``
event: not JSON, not an array, a binary frame, an answer with an unknown, late or repeated id, a
broken CALL, a frame too big or masked) or, when it was the answer to our call, as that call's
failure (a :class:`~ocpp_users.ocppj.errors.FrameError`). :class:`InvalidFrames` sits in front of
the runner's recorder as the charge point's sink and files each one in the list the runner points
it at: the running case's (its notes and ``invalid_frames`` in the JSON report) or the run's.
"""

from __future__ import annotations

import time
from typing import Any

from ocpp_users.ocppj.errors import FrameError
from ocpp_users.ocppj.sink import Recorder
from ocpp_users.ocppj.text import sanitize
from scenarios.results import InvalidFrame

FRAME_LIMIT = 300
"""Characters of an invalid frame kept in a note."""


class InvalidFrames:
    """A request-event sink: forwards every event to ``recorder``, files invalid frames in ``current``."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.current: list[InvalidFrame] = []

    def switch(self, target: list[InvalidFrame]) -> None:
        self.current = target

    def __call__(self, *, request_type: str, exception: BaseException | None = None, **event: Any) -> None:
        self.recorder(request_type=request_type, exception=exception, **event)
        if not isinstance(exception, FrameError):
            return  # (a PROTOCOL event, or our call's answer that was not a valid frame)
        shown = sanitize(exception.raw, FRAME_LIMIT) if exception.raw else exception.detail
        self.current.append(InvalidFrame(time.time(), exception.reason, shown))
