"""Reference OCPP 1.6J Central System ("testbed") used as an independent test oracle.

Run it with ``python -m testbed --help``.  This package deliberately depends only
on the standard library, ``ocpp`` and ``websockets``; it never imports the
project's own charge point code, so it can judge that code independently.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
