"""Smart Charging profile (OCTT 1.6 section 3.19): SetChargingProfile, GetCompositeSchedule,
ClearChargingProfile and RemoteStartTransaction with a charging profile, TC_056 to TC_067."""
