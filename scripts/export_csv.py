"""Write the Handshake upload files and their reports from the dbt marts.

    python scripts/export_csv.py --output-dir DIR [--target T]
                                 [--allow-mass-disable] [--project-dir .]

Run after `dbt build`. Writes into DIR (README "Outputs"): the sync file (split
into parts over 199,999 rows), the alumni update file, import_issues.csv,
student_outcomes.csv, alumni_password_notices.csv, report.html and
manifest.json, each through a temporary file (0600), renamed into place only
when all are complete, the manifest last. The connection is the dbt profile's
target: --target, else $HANDSHAKE_TARGET, else the profile's default. The
printed summary holds counts only. The work is done by scripts/handshake_export/.

Exit codes:
    0    the files were written
    2    usage error (bad arguments, unknown target)
    3    no dbt build, or the last one had failing nodes or tests, was interrupted,
         built only some models, or dbt run / dbt seed changed tables after it;
         or it is stale: an input it read changed, or a later dbt build, run or
         seed failed (logs/dbt.log)
    4    stopped: the share of changed rows that would disable an account reached
         the build's mass_disable_threshold (re-run with --allow-mass-disable)
    5    database problem: cannot connect, database locked, mart tables missing
    6    the output files could not be written
    130  interrupted (Ctrl-C or SIGTERM); no temporary file is left behind
"""

from __future__ import annotations

import sys

from handshake_export.cli import main

if __name__ == "__main__":
    sys.exit(main())
