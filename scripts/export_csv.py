"""Write the Handshake files from the dbt marts (scripts/handshake_export/; README "Outputs").
Exit codes: 0 written, 2 usage, 3 build missing, failing or stale, 4 mass-disable
stop, 5 database problem (or export_log not written after the files), 6 write
error, 130 interrupted ("Running it every night" explains each)."""

from __future__ import annotations

import sys

from handshake_export.cli import main

if __name__ == "__main__":
    sys.exit(main())
