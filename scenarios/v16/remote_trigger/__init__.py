"""Remote Trigger profile (OCTT 1.6 section 3.18): TriggerMessage, TC_054 and TC_055."""
