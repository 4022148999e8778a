"""The Core-profile OCTT 1.6 cases for a Central System, one module per case (found by pkgutil)."""
