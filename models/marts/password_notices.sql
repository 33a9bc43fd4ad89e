with

sync_rows as (
    select * from {{ ref('int_sync_rows_built') }}
),

outcomes as (
    select * from {{ ref('int_student_outcomes_decided') }}
    where is_in_alumni_update_file
),

final as (
    -- Alumni this run's alumni update file moves, whose school no longer
    -- admits them through single sign-on and whom Handshake keeps enabled:
    -- they must set a Handshake password to keep signing in. Listed once, at
    -- the run that makes them Alumni (not again for a later email switch).
    -- The cells of alumni_password_notices.csv as written (escape_formula);
    -- the export writes them verbatim.
    select
        {{ escape_formula('sync_rows.username') }} as username,
        {{ escape_formula('sync_rows.email_address') }} as email_address,
        {{ escape_formula('sync_rows.first_name') }} as first_name,
        sync_rows.student_id
    from sync_rows
    inner join outcomes
        on sync_rows.student_id = outcomes.student_id
    where
        sync_rows.student_status = 'alumni'
        and sync_rows.is_sso_enabled = false
        and not sync_rows.applied_is_disabled
        and coalesce(lower(sync_rows.handshake_school_year_name), '') != 'alumni'
)

select * from final
