{#
    The warning not_applied_by_handshake (SPEC sections 5 and 8): one row per
    student whom the 'sent' run of an earlier night (int_previous_runs_selected)
    sent a change that today's handshake_users still lacks, while this build
    still decides the same value for that cell and exports the student. The
    detail names the cells and that run. None on a first run, when no
    earlier night was sent, and on Spark, which keeps no student history.
#}

with

sent_run as (
    select * from {{ ref('int_previous_runs_selected') }}
    where run_role = 'sent'
),

history as (
    {{ student_state_history_rows() }}
),

today as (
    select * from {{ ref('int_student_states_decided') }}
    where outcome = 'exported'
),

handshake_users as (
    select * from {{ ref('stg_handshake__users') }}
),

states_at_sent_run as (
    -- Each student's state as of the sent run: the latest history row
    -- recorded by that build or an earlier one.
    select
        history.*,
        sent_run.as_of_date as sent_as_of_date,
        sent_run.build_number as sent_build_number,
        row_number() over (
            partition by history.student_id
            order by history.build_number desc
        ) as state_rank
    from history
    inner join sent_run
        on history.build_number <= sent_run.build_number
),

changes_sent as (
    select * from states_at_sent_run
    where state_rank = 1 and is_change_sent
),

cells_compared as (
    -- A cell is unapplied when Handshake holds another value than the one
    -- sent, and this build still decides the value sent.
    select
        today.student_id,
        today.username,
        sent.sent_as_of_date,
        sent.sent_build_number,
        handshake_users.username is null as is_missing_in_handshake,
        {{ is_distinct('lower(sent.school_year_name)', 'lower(handshake_users.school_year_name)') }}
        and not {{ is_distinct('lower(sent.school_year_name)', 'lower(today.school_year_name)') }}
            as is_school_year_name_unapplied,
        {{ is_distinct('sent.email_address', 'handshake_users.email_address') }}
        and not {{ is_distinct('sent.email_address', 'today.email_address') }} as is_email_address_unapplied,
        {{ is_distinct('sent.end_date', 'handshake_users.end_date') }}
        and not {{ is_distinct('sent.end_date', 'today.end_date') }} as is_end_date_unapplied,
        {{ is_distinct('sent.is_currently_attending', 'handshake_users.is_currently_attending') }}
        and not {{ is_distinct('sent.is_currently_attending', 'today.is_currently_attending') }}
            as is_currently_attending_unapplied,
        {{ is_distinct('sent.is_disabled', 'coalesce(handshake_users.is_disabled, false)') }}
        and not {{ is_distinct('sent.is_disabled', 'today.is_disabled') }} as is_disabled_unapplied
    from changes_sent as sent
    inner join today
        on sent.student_id = today.student_id
    left join handshake_users
        on today.username = handshake_users.username
),

final as (
    select
        student_id,
        username,
        'not_applied_by_handshake' as code,
        'the run of ' || {{ render_date('sent_as_of_date') }}
        || ' (build ' || cast(sent_build_number as {{ dbt.type_string() }}) || ') sent '
        || case
            when is_missing_in_handshake then 'a new account, which handshake_users does not hold yet'
            else concat_ws(
                    ', ',
                    case when is_school_year_name_unapplied then 'school_year_name' end,
                    case when is_email_address_unapplied then 'email_address' end,
                    case when is_end_date_unapplied then 'end_date' end,
                    case when is_currently_attending_unapplied then 'currently_attending' end,
                    case when is_disabled_unapplied then 'disabled' end
                ) || '; handshake_users still holds the earlier value'
        end as detail
    from cells_compared
    where
        is_missing_in_handshake
        or is_school_year_name_unapplied
        or is_email_address_unapplied
        or is_end_date_unapplied
        or is_currently_attending_unapplied
        or is_disabled_unapplied
)

select * from final
