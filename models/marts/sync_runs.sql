{%- set disable_after_days = setting_days('disable_alumni_after_days', allow_none=true) -%}

with

outcomes as (
    select * from {{ ref('int_student_outcomes_decided') }}
),

outcome_counts as (
    select
        count(*) as student_count,
        sum(case when outcome = 'exported' then 1 else 0 end) as exported_count,
        sum(case when outcome = 'skipped' then 1 else 0 end) as skipped_count,
        sum(case when outcome = 'rejected' then 1 else 0 end) as rejected_count
    from outcomes
),

final as (
    select
        {{ as_of_date() }} as as_of_date,
        {{ setting_days('campus_email_grace_days') }} as campus_email_grace_days,
        {{ setting_days('alumni_lookback_days') }} as alumni_lookback_days,
        {{ 'cast(null as integer)' if disable_after_days is none else disable_after_days }}
            as disable_alumni_after_days,
        student_count,
        coalesce(exported_count, 0) as exported_count,
        coalesce(skipped_count, 0) as skipped_count,
        coalesce(rejected_count, 0) as rejected_count
    from outcome_counts
)

select * from final
