-- What: warnings are raised only for rows that are exported.
-- When: every build.
-- How: warning issues joined to the student's outcome.
select
    issues.student_id,
    issues.code,
    outcomes.outcome
from {{ ref('import_issues') }} as issues
inner join {{ ref('student_outcomes') }} as outcomes
    on issues.student_id = outcomes.student_id
where issues.severity = 'warning'
    and outcomes.outcome != 'exported'
