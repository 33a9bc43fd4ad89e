-- What: a student with an error, or any outcome but exported, appears in
--   neither Handshake file nor in the password notices.
-- When: every build; a failure means a refused row would reach Handshake.
-- How: the files' student_ids joined to errors and outcomes.
with

file_rows as (
    select
        student_id,
        'sync_users' as file_name
    from {{ ref('sync_users') }}
    union all
    select
        student_id,
        'alumni_updates' as file_name
    from {{ ref('alumni_updates') }}
    union all
    select
        student_id,
        'password_notices' as file_name
    from {{ ref('password_notices') }}
),

errors as (
    select distinct student_id from {{ ref('import_issues') }}
    where severity = 'error'
),

outcomes as (
    select * from {{ ref('student_outcomes') }}
)

-- import_issues and student_outcomes hold the student_id as written (escape_formula).
select
    file_rows.file_name,
    file_rows.student_id,
    outcomes.outcome
from file_rows
left join errors
    on {{ escape_formula('file_rows.student_id') }} = errors.student_id
left join outcomes
    on {{ escape_formula('file_rows.student_id') }} = outcomes.student_id
where errors.student_id is not null
    or coalesce(outcomes.outcome, '') != 'exported'
