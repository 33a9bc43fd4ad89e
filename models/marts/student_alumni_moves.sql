{#
    One row per student whom a run of this project moved to Alumni: the
    first build that decided school year Alumni for the student and sent it
    as a change (Handshake did not hold it), that build's as_of_date, and the
    first export or delivery of a build that still decided it (export_log):
    "when did student X become Alumni, and which run sent it". Not on Spark
    (no student history there).
#}
{{ config(enabled=target.type != 'spark') }}

with

history as (
    select * from {{ ref('student_state_history') }}
),

exports as (
    select * from {{ ref('stg_runs__exports') }}
),

states_ordered as (
    select
        student_id,
        username,
        school_year_name,
        is_change_sent,
        as_of_date,
        build_number,
        lead(build_number) over (partition by student_id order by build_number) as next_build_number
    from history
),

alumni_moves_ranked as (
    select
        *,
        row_number() over (partition by student_id order by build_number) as move_rank
    from states_ordered
    where lower(school_year_name) = 'alumni' and is_change_sent
),

first_moves as (
    select * from alumni_moves_ranked
    where move_rank = 1
),

moves_sent as (
    -- The exports and deliveries of the builds during which this state held.
    select
        first_moves.student_id,
        min(case when exports.export_event = 'exported' then exports.build_number end) as exported_build_number,
        min(case when exports.export_event = 'delivered' then exports.build_number end) as delivered_build_number
    from first_moves
    inner join exports
        on
            first_moves.build_number <= exports.build_number
            and (first_moves.next_build_number is null or first_moves.next_build_number > exports.build_number)
    group by first_moves.student_id
),

final as (
    select
        first_moves.student_id,
        first_moves.username,
        first_moves.as_of_date as moved_to_alumni_on,
        first_moves.build_number as decided_by_build_number,
        moves_sent.exported_build_number,
        moves_sent.delivered_build_number
    from first_moves
    left join moves_sent
        on first_moves.student_id = moves_sent.student_id
)

select * from final
