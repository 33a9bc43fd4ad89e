{#
    The report's "Since the previous run": one row for the current build,
    comparing each student's decided state today with the state as of the
    previous run (the last successful build of the latest earlier night,
    int_previous_runs_selected). Null counts when there is no previous run
    (a first run) and on Spark, which keeps no student history.
#}
with

previous_run as (
    select * from {{ ref('int_previous_runs_selected') }}
    where run_role = 'previous'
),

{%- if target.type != 'spark' %}

history as (
    select * from {{ ref('student_state_history') }}
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

{%- endif %}

final as (
    select
        {{ as_of_date() }} as as_of_date,
        previous_run.build_number as previous_build_number,
        previous_run.as_of_date as previous_as_of_date,
        {%- for column in ['moved_to_alumni_count', 'newly_rejected_count', 'fixed_count', 'email_changed_count'] %}
        {%- if target.type == 'spark' %}
        cast(null as {{ dbt.type_int() }}) as {{ column }}{{ ',' if not loop.last }}
        {%- else %}
        case when previous_run.build_number is not null then coalesce(change_counts.{{ column }}, 0) end
            as {{ column }}{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from (select 1 as one_row) as current_build
    left join previous_run
        on 1 = 1
    {%- if target.type != 'spark' %}
    cross join change_counts
    {%- endif %}
)

select * from final
