{#
    The earlier runs this build compares with, at most one row per role,
    always of an earlier as_of_date (never this night's, so that a rebuild of
    the same night compares with the same run and writes the same files):
    - 'sent': the run whose sync file Handshake should have applied: of the
      latest earlier night with a recorded export or delivery (export_log),
      its last delivered build, or else its last exported one. While the
      export log is empty (nothing was ever recorded, e.g. an export that
      does not record), the last successful build of the latest earlier
      night stands in for it. Nights never exported are never chosen once
      anything is recorded.
    - 'previous': the last successful build of the latest earlier night
      (the report's "Since the previous run").
#}
with

builds as (
    select * from {{ ref('stg_runs__builds') }}
    where is_successful_build and not is_current_build
),

run_history as (
    select * from {{ ref('sync_run_history') }}
),

exports as (
    select * from {{ ref('stg_runs__exports') }}
),

earlier_builds as (
    select
        builds.build_number,
        run_history.as_of_date
    from builds
    inner join run_history
        on builds.build_number = run_history.build_number
    where run_history.as_of_date < {{ as_of_date() }}
),

export_count as (
    select count(*) as recorded_export_count from exports
),

sent_candidates as (
    select
        build_number,
        as_of_date,
        case when export_event = 'delivered' then 1 else 2 end as event_rank
    from exports
    where as_of_date < {{ as_of_date() }}
    union all
    select
        earlier_builds.build_number,
        earlier_builds.as_of_date,
        3 as event_rank
    from earlier_builds
    cross join export_count
    where export_count.recorded_export_count = 0
),

candidates as (
    select
        'sent' as run_role,
        build_number,
        as_of_date,
        event_rank
    from sent_candidates
    union all
    select
        'previous' as run_role,
        build_number,
        as_of_date,
        3 as event_rank
    from earlier_builds
),

candidates_ranked as (
    select
        run_role,
        build_number,
        as_of_date,
        case event_rank when 1 then 'delivered' when 2 then 'exported' else 'built' end as run_event,
        row_number() over (
            partition by run_role
            order by as_of_date desc, event_rank asc, build_number desc
        ) as run_rank
    from candidates
),

final as (
    select
        run_role,
        build_number,
        as_of_date,
        run_event
    from candidates_ranked
    where run_rank = 1
)

select * from final
