"""``python -m testbed``: run the reference OCPP 1.6J CSMS."""

from testbed.cli import main

raise SystemExit(main())
