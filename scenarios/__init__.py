"""Compliance mode: the OCTT 1.6 test cases for a Central System (``TC_xxx_CSMS``).

One simulated charge point plays the OCTT ("the Tool") against the CSMS under test. Every case
lives in its own module under ``scenarios/v16/<feature profile>/`` and registers itself with
:func:`scenarios.base.register`; :mod:`scenarios.runner` runs them in document order after
:mod:`scenarios.probe` has found what the CSMS supports. :mod:`scenarios.context` holds the steps
cases share, :mod:`scenarios.drivers` makes the CSMS send its calls (``--trigger-url``,
``--trigger-cmd``, a prompt), :mod:`scenarios.console` and :mod:`scenarios.reporting` write the
verdicts, :mod:`scenarios.cli` is ``volatileocpp`` and :mod:`scenarios.locust_user` the same
cases as a Locust user. :mod:`scenarios.robustness` is the robustness suite (a hostile charge
point, ``volatileocpp robustness``) on the same results and reports.

Importing this package does not monkey-patch anything; entry points (``scenarios.cli``,
``locustfiles/compliance.py``) patch gevent first.
"""
