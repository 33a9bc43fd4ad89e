-- What: a rejected student has at least one error issue, and every error
--   code of the student is named in the outcome's reason; an exported or
--   skipped student has no error issue.
-- When: every build.
-- How: error issues compared with the outcomes' reasons.
with

errors as (
    select * from {{ ref('import_issues') }}
    where severity = 'error'
),

outcomes as (
    select * from {{ ref('student_outcomes') }}
)

select
    outcomes.student_id,
    outcomes.outcome,
    errors.code
from outcomes
left join errors
    on outcomes.student_id = errors.student_id
where (outcomes.outcome = 'rejected' and errors.code is null)
    or (outcomes.outcome != 'rejected' and errors.code is not null)
    or (
        outcomes.outcome = 'rejected'
        and {{ dbt.position("';' || errors.code || ';'", "';' || outcomes.reason || ';'") }} = 0
    )
