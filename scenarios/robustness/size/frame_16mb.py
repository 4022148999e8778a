"""size.frame_16mb: a schema-valid DataTransfer of 16 MB (16,000,000 bytes) in one text frame."""

from __future__ import annotations

from scenarios.robustness.base import register
from scenarios.robustness.shapes import LARGE_NON_STRICT, LARGE_PASSED, LargeFrameCase


@register
class Frame16Mb(LargeFrameCase):
    case_id = "size.frame_16mb"
    title = "A frame of 16 MB (DataTransfer.data)"
    clause = "OCPP 1.6 §4.3; RFC 6455 §7.4.1 (1009)"
    requirement = (
        "The length of data in both the request and response PDU is undefined and should be agreed upon by all "
        "parties involved. (RFC 6455 §7.4.1: 1009 indicates that an endpoint is terminating the connection because "
        "it has received a message that is too big for it to process.)"
    )
    sends = 'DataTransfer {"vendorId":"org.volatileocpp.robustness","data":"xxx..."}: 16,000,000 bytes in one frame'
    passed = LARGE_PASSED
    non_strict = LARGE_NON_STRICT
    size = 16_000_000
    order = 22
