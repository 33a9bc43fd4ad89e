"""Write the Handshake upload files and their reports from the dbt marts (run
dbt build first); the work is done by scripts/handshake_export/.

    python scripts/export_csv.py --output-dir DIR [--target T]
                                 [--allow-mass-disable] [--project-dir .]

README "Outputs" lists the files; "Running it every night" explains each exit code.
Exit codes: 0 written, 2 usage, 3 build missing, failing or stale, 4 mass-disable
stop, 5 database problem (or export_log not written after the files), 6 write
error, 130 interrupted.
"""

from __future__ import annotations

import sys

from handshake_export.cli import main

if __name__ == "__main__":
    sys.exit(main())
