{%- set disable_after_days = setting_days('disable_alumni_after_days', allow_none=true) -%}
{%- set mass_disable_threshold = setting_share('mass_disable_threshold') -%}
{%- set email_change_threshold = setting_share('email_change_warning_threshold') -%}
{%- set double_type = 'double precision' if target.type == 'postgres' else 'double' -%}

with

outcomes as (
    select * from {{ ref('int_student_outcomes_decided') }}
),

sync_rows as (
    select * from {{ ref('sync_users') }}
),

outcome_counts as (
    select
        count(*) as student_count,
        sum(case when outcome = 'exported' then 1 else 0 end) as exported_count,
        sum(case when outcome = 'skipped' then 1 else 0 end) as skipped_count,
        sum(case when outcome = 'rejected' then 1 else 0 end) as rejected_count
    from outcomes
),

-- Handshake's safety valves of an automated sync, counted on the sync
-- file's rows: a sync that disables at least mass_disable_threshold of the
-- rows it changes is held for manual approval; one that changes the email
-- of at least email_change_warning_threshold of its rows applies none of
-- the email changes.
preflight_counts as (
    select
        count(*) as sync_row_count,
        count(case when is_record_changed then 1 end) as changed_row_count,
        count(case when is_record_changed and is_newly_disabled then 1 end)
            as newly_disabled_row_count,
        count(case when is_email_changed then 1 end) as email_change_count
    from sync_rows
),

-- The shares rounded to 4 decimals half to even on exact integers (as
-- Python's round() of the exact share): ten-thousandths, then the
-- remainder decides.
preflight_rounding as (
    select
        *,
        case when changed_row_count > 0
                then cast(floor(newly_disabled_row_count * 10000 / changed_row_count) as bigint)
            else 0
        end as newly_disabled_floor,
        case when sync_row_count > 0
                then cast(floor(email_change_count * 10000 / sync_row_count) as bigint)
            else 0
        end as email_change_floor
    from preflight_counts
),

preflight as (
    select
        sync_row_count,
        changed_row_count,
        newly_disabled_row_count,
        email_change_count,
        {{ round_share('newly_disabled_row_count', 'changed_row_count', 'newly_disabled_floor', double_type) }}
            as newly_disabled_share,
        {{ round_share('email_change_count', 'sync_row_count', 'email_change_floor', double_type) }}
            as email_change_share,
        cast({{ mass_disable_threshold }} as decimal(5, 4)) as mass_disable_threshold,
        cast({{ email_change_threshold }} as decimal(5, 4)) as email_change_threshold,
        (
            changed_row_count > 0
            and newly_disabled_row_count >= {{ mass_disable_threshold }} * changed_row_count
        ) as is_mass_disable,
        (
            sync_row_count > 0
            and email_change_count >= {{ email_change_threshold }} * sync_row_count
        ) as is_email_change_warning
    from preflight_rounding
),

final as (
    select
        {{ as_of_date() }} as as_of_date,
        {{ setting_days('campus_email_grace_days') }} as campus_email_grace_days,
        {{ setting_days('alumni_lookback_days') }} as alumni_lookback_days,
        {{ 'cast(null as integer)' if disable_after_days is none else disable_after_days }}
            as disable_alumni_after_days,
        outcome_counts.student_count,
        coalesce(outcome_counts.exported_count, 0) as exported_count,
        coalesce(outcome_counts.skipped_count, 0) as skipped_count,
        coalesce(outcome_counts.rejected_count, 0) as rejected_count,
        preflight.sync_row_count,
        preflight.changed_row_count,
        preflight.newly_disabled_row_count,
        preflight.email_change_count,
        preflight.newly_disabled_share,
        preflight.email_change_share,
        preflight.mass_disable_threshold,
        preflight.email_change_threshold,
        preflight.is_mass_disable,
        preflight.is_email_change_warning
    from outcome_counts
    cross join preflight
)

select * from final
