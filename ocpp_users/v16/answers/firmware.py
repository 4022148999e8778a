"""Firmware Management profile: GetDiagnostics and UpdateFirmware, with their status notifications."""

from __future__ import annotations

import hashlib
import posixpath
from urllib.parse import urlsplit

from ocpp_users.ocppj.handlers import on
from ocpp_users.ocppj.rpc import Payload, Reply
from ocpp_users.v16.actions import Action
from ocpp_users.v16.answers.base import ProfileAnswers, seconds_until


def installed_version(location: str, current: str) -> str:
    """The firmwareVersion a successful update from ``location`` installs: the image's file name
    without its extension (``https://fw.example/vcp-2.1.0.bin`` -> ``vcp-2.1.0``), else the current
    version marked with a digest of the location; CiString50 (§7.4 BootNotification.req)."""
    name = posixpath.basename(urlsplit(location).path or "")
    stem = name.split(".bin")[0] if name.endswith(".bin") else posixpath.splitext(name)[0]
    if stem and stem != current:
        return stem[:50]
    digest = hashlib.sha256(location.encode("utf-8", "replace")).hexdigest()[:8]
    return f"{current[:41]}+{digest}"


class FirmwareAnswers(ProfileAnswers):
    """Answers of the Firmware Management profile."""

    profile = "FirmwareManagement"

    @on(Action.get_diagnostics)
    def get_diagnostics(self, payload: Payload) -> Payload | Reply:
        station, state = self.station, self.state
        file_name = f"diagnostics-{station.cp_id}.log"[:255]

        def upload() -> None:
            state.diagnostics_status = "Uploading"
            station.call("DiagnosticsStatusNotification", {"status": "Uploading"})
            if station.wait_stopping(1.0 / max(station.settings.time_factor, 1.0)):
                return
            state.diagnostics_status = station.settings.behaviour.diagnostics_outcome
            station.call("DiagnosticsStatusNotification", {"status": state.diagnostics_status})

        return Reply({"fileName": file_name}, self.later(upload))

    @on(Action.update_firmware)
    def update_firmware(self, payload: Payload) -> Payload | Reply:
        station, state = self.station, self.state
        wait = seconds_until(payload.get("retrieveDate"))
        outcome = station.settings.behaviour.firmware_outcome
        location = str(payload.get("location", ""))

        def notify(status: str) -> None:
            state.firmware_status = status
            station.call("FirmwareStatusNotification", {"status": status})

        def update() -> None:
            if station.wait_stopping(wait):
                return
            notify("Downloading")
            if station.wait_stopping(1.0 / max(station.settings.time_factor, 1.0)):
                return
            if outcome == "DownloadFailed":
                notify(outcome)
                return
            notify("Downloaded")
            notify("Installing")
            if outcome == "InstallationFailed":
                notify(outcome)
                return
            # Installed at the reboot: the BootNotification that follows reports the new firmware
            # (§4.5: the charger reboots, boots, then sends Installed).
            station.firmware_version = installed_version(location, station.firmware_version)
            station.reboot("HardReset")

        return Reply({}, self.later(update))
