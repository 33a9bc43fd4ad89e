with

outcomes as (
    select * from {{ ref('int_student_outcomes_decided') }}
),

-- The cells of student_outcomes.csv as written (escape_formula); the export
-- writes them verbatim.
final as (
    select
        {{ escape_formula('student_id') }} as student_id,
        {{ escape_formula('username') }} as username,
        {{ escape_formula('outcome') }} as outcome,
        {{ escape_formula('reason') }} as reason,
        is_in_sync_file,
        is_in_alumni_update_file
    from outcomes
)

select * from final
