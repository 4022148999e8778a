"""Local Authorization List Management profile (OCTT 1.6 section 3.14): GetLocalListVersion and
SendLocalList, TC_042_x and TC_043_x."""
