with

sync_rows as (
    select * from {{ ref('int_sync_rows_built') }}
),

outcomes as (
    select * from {{ ref('int_student_outcomes_decided') }}
    where is_in_alumni_update_file
),

update_rows as (
    select
        {%- for column_name, header in handshake_file_columns() %}
            sync_rows.{{ column_name }},
        {%- endfor %}
        sync_rows.student_id,
        outcomes.reason as outcome_reason
    from sync_rows
    inner join outcomes
        on sync_rows.student_id = outcomes.student_id
),

-- What each row changes, read from the cells the file sends (as the sync
-- report describes them): a row either moves the student to Alumni or
-- brings a returning student back; it may also set disabled (TRUE: the
-- disable policy, FALSE: re-enabled) and clear the end date.
final as (
    select
        *,
        coalesce(lower(school_year_name) = 'alumni', false) as is_moved_to_alumni,
        not coalesce(lower(school_year_name) = 'alumni', false) as is_returning,
        coalesce(disabled = 'FALSE', false) as is_re_enabled,
        coalesce(disabled = 'TRUE', false) as is_disabled_by_policy,
        coalesce(end_date = '**CLEAR**', false) as is_end_date_cleared
    from update_rows
)

select * from final
