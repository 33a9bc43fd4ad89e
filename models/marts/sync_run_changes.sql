{#
    The report's "Since the previous run": one row for the current build,
    comparing each student's decided state today with the state as of the
    previous run (the last successful build of the latest earlier night,
    int_previous_runs_selected). Null counts when there is no previous run
    (a first run) and on Spark, which keeps no student history.
#}
{%- set has_history = 'false' if target.type == 'spark' else 'true' %}

with

current_run as (
    select {{ as_of_date() }} as as_of_date
),

previous_run as (
    select * from {{ ref('int_previous_runs_selected') }}
    where run_role = 'previous'
),

history as (
    {{ student_state_history_rows() }}
),

today as (
    select * from {{ ref('int_student_states_decided') }}
),

states_at_previous_run as (
    select
        history.*,
        row_number() over (
            partition by history.student_id
            order by history.build_number desc
        ) as state_rank
    from history
    inner join previous_run
        on history.build_number <= previous_run.build_number
),

students_compared as (
    select
        lower(today.school_year_name) = 'alumni' and today.outcome = 'exported'
        and {{ is_distinct("lower(earlier.school_year_name)", "'alumni'") }} as is_moved_to_alumni,
        today.outcome = 'rejected' and {{ is_distinct('earlier.outcome', "'rejected'") }} as is_newly_rejected,
        earlier.outcome = 'rejected' and today.outcome != 'rejected' as is_fixed,
        today.outcome = 'exported'
        and earlier.email_address is not null
        and today.email_address != earlier.email_address as is_email_changed
    from today
    left join states_at_previous_run as earlier
        on
            today.student_id = earlier.student_id
            and earlier.state_rank = 1
),

change_counts as (
    select
        sum(case when is_moved_to_alumni then 1 else 0 end) as moved_to_alumni_count,
        sum(case when is_newly_rejected then 1 else 0 end) as newly_rejected_count,
        sum(case when is_fixed then 1 else 0 end) as fixed_count,
        sum(case when is_email_changed then 1 else 0 end) as email_changed_count
    from students_compared
),

final as (
    -- Counts only against a previous run, and never on Spark.
    select
        current_run.as_of_date,
        previous_run.build_number as previous_build_number,
        previous_run.as_of_date as previous_as_of_date,
        case
            when previous_run.build_number is not null and {{ has_history }}
                then coalesce(change_counts.moved_to_alumni_count, 0)
        end as moved_to_alumni_count,
        case
            when previous_run.build_number is not null and {{ has_history }}
                then coalesce(change_counts.newly_rejected_count, 0)
        end as newly_rejected_count,
        case
            when previous_run.build_number is not null and {{ has_history }}
                then coalesce(change_counts.fixed_count, 0)
        end as fixed_count,
        case
            when previous_run.build_number is not null and {{ has_history }}
                then coalesce(change_counts.email_changed_count, 0)
        end as email_changed_count
    from current_run
    left join previous_run
        on 1 = 1
    cross join change_counts
)

select * from final
