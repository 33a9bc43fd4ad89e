-- What: conservation. Every distinct student_id of the SIS extract has exactly
--   one outcome (exported, skipped or rejected) with a reason, and no outcome
--   belongs to a student the extract does not hold.
-- When: every build; a failure means a student was lost or counted twice.
-- How: full outer join of the extract's student_ids and the outcomes.
with

students as (
    -- as student_outcomes writes it (escape_formula)
    select distinct {{ escape_formula('student_id') }} as student_id
    from {{ ref('stg_sis__students') }}
),

outcomes as (
    select
        student_id,
        count(*) as outcome_count,
        min(outcome) as outcome,
        min(reason) as reason
    from {{ ref('student_outcomes') }}
    group by student_id
)

select
    coalesce(students.student_id, outcomes.student_id) as student_id,
    outcomes.outcome_count,
    outcomes.outcome,
    outcomes.reason
from students
full outer join outcomes
    on students.student_id = outcomes.student_id
where
    students.student_id is null
    or outcomes.student_id is null
    or outcomes.outcome_count != 1
    or outcomes.outcome not in ('exported', 'skipped', 'rejected')
    or outcomes.reason is null
