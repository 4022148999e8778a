"""The OCTT 1.6 cases for a Central System, one package per feature profile, one module per case."""
