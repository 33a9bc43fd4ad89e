"""Write the Handshake upload files and their reports from the dbt marts.

Run after `dbt build`:

    python scripts/export_csv.py --output-dir DIR [--target T]
                                 [--allow-mass-disable] [--project-dir .]

Writes into DIR (SPEC section 6): <YYYYMMDD>_users.csv (split into
<YYYYMMDD>_users_part01.csv, ... over 199,999 rows), alumni_update_<YYYYMMDD>.csv,
import_issues.csv, student_outcomes.csv, alumni_password_notices.csv,
report.html (the career office's one-page summary) and manifest.json. Every
file goes to a temporary file first (mode 0600); they are renamed into place
only when all of them are complete, the manifest last. The work is done by the
package scripts/handshake_export/ (its __init__ lists the modules).

The connection comes from the dbt profile `handshake_alumni` in
<project>/profiles.yml; the target is --target, else $HANDSHAKE_TARGET, else the
profile's default. The summary printed at the end holds counts only, never
names, usernames or email addresses.

Exit codes:
    0    the files were written
    2    usage error (bad arguments, unknown target)
    3    no dbt build found, or the last build had failing nodes or tests, was
         interrupted, built only some models, or dbt run / dbt seed changed
         tables after it (the build log); or it is stale: a later dbt build,
         run or seed failed (logs/dbt.log), or an input file changed since
         the build read it (build_inputs)
    4    stopped: 50 % or more of the changed rows would disable an account
         (re-run with --allow-mass-disable to write the files anyway)
    5    database or data problem: cannot connect, database locked, mart tables
         missing
    6    the output files could not be written
    130  interrupted (Ctrl-C or SIGTERM); no temporary file is left behind
"""

from __future__ import annotations

import sys

from handshake_export.cli import main

if __name__ == "__main__":
    sys.exit(main())
