"""Firmware Management profile (OCTT 1.6 sections 3.15 and 3.16): UpdateFirmware with its
FirmwareStatusNotifications (TC_044_x) and GetDiagnostics with its DiagnosticsStatusNotifications
(TC_045_x)."""
