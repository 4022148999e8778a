"""OCTT 1.6 cases for a Central System, grouped by OCPP 1.6 feature profile."""
