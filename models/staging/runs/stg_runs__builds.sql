{#
    One row per logged dbt command (build_log), with the flags the history
    models need: which row is this invocation's, and which builds finished
    without a failed node.
#}
with

build_log as (
    select * from {{ source('runs', 'build_log') }}
),

final as (
    select
        build_number,
        invocation_id,
        command,
        started_at,
        finished_at,
        invocation_id = '{{ invocation_id }}' as is_current_build,
        command = 'build'
        and finished_at is not null
        and failed_nodes = 0
        and models_built = models_total as is_successful_build
    from build_log
)

select * from final
