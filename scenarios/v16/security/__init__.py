"""The OCTT 1.6 security cases for a Central System (TC_085 Basic auth, TC_086 TLS)."""
