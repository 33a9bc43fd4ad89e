with

outcomes as (
    select * from {{ ref('int_student_outcomes_decided') }}
),

final as (
    select
        student_id,
        username,
        outcome,
        reason,
        is_in_sync_file,
        is_in_alumni_update_file
    from outcomes
)

select * from final
