"""Compliance mode: the OCTT 1.6 test cases for a Central System (``TC_xxx_CSMS``).

One simulated charge point plays the OCTT ("the Tool") against the CSMS under test. Every case
lives in its own module under :mod:`scenarios.core`, :mod:`scenarios.security` or a feature
profile's package of :mod:`scenarios.v16` and registers itself with
:func:`scenarios.base.register`; :mod:`scenarios.runner` runs them in document order.

Importing this package does not monkey-patch anything; entry points (``scenarios.cli``,
``locustfiles/compliance.py``) patch gevent first.
"""
