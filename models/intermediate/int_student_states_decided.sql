{#
    This build's decided state of every student, the row the history
    (snapshot student_state_history) keeps when it changes: the outcome,
    whether the sync file sends the student a change, and the record Handshake
    holds once the row is applied (a blank cell keeps Handshake's value,
    **CLEAR** wipes the end date), with the run that decided it.
#}
with

outcomes as (
    select * from {{ ref('int_student_outcomes_decided') }}
),

sync_rows as (
    select * from {{ ref('int_sync_rows_built') }}
),

builds as (
    select * from {{ ref('stg_runs__builds') }}
    where is_current_build
),

final as (
    select
        outcomes.student_id,
        outcomes.username,
        outcomes.outcome,
        outcomes.reason,
        outcomes.is_in_sync_file,
        outcomes.is_in_sync_file and coalesce(sync_rows.is_record_changed, false) as is_change_sent,
        sync_rows.applied_school_year_name as school_year_name,
        sync_rows.applied_email_address as email_address,
        sync_rows.applied_end_date as end_date,
        sync_rows.applied_is_currently_attending as is_currently_attending,
        sync_rows.applied_is_disabled as is_disabled,
        {{ as_of_date() }} as as_of_date,
        builds.build_number
    from outcomes
    left join sync_rows
        on outcomes.student_id = sync_rows.student_id
    cross join builds
)

select * from final
