"""The OCPP messages the round-trip benchmarks send (the harness and the raw loop send the same)."""

from __future__ import annotations

from typing import Any

#: The charge-point-initiated messages of the round-trip benchmarks (same payloads in the raw loop).
MESSAGES: list[tuple[str, dict[str, Any]]] = [
    ("Heartbeat", {}),
    (
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": "2026-01-01T00:00:00.000Z"},
    ),
    (
        "MeterValues",
        {
            "connectorId": 1,
            "transactionId": 1,
            "meterValue": [
                {
                    "timestamp": "2026-01-01T00:00:00.000Z",
                    "sampledValue": [
                        {
                            "value": "12345",
                            "context": "Sample.Periodic",
                            "measurand": "Energy.Active.Import.Register",
                            "unit": "Wh",
                        },
                        {
                            "value": "7400",
                            "context": "Sample.Periodic",
                            "measurand": "Power.Active.Import",
                            "unit": "W",
                        },
                    ],
                }
            ],
        },
    ),
    ("Authorize", {"idTag": "VOCPP-LOAD-0001"}),
]
BOOT: dict[str, Any] = {"chargePointVendor": "VolatileOCPP", "chargePointModel": "VirtualCP"}
