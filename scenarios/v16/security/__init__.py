"""The OCTT 1.6 security cases for a Central System (section 3.21): the security whitepaper's
extension (TC_073 to TC_081: AuthorizationKey, certificates, security events and log, signed
firmware) and the connection itself (TC_085 Basic auth, TC_086 TLS, TC_087 TLS client certificate)."""
