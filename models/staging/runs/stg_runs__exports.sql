{# One row per export or delivery of a build's files (export_log). #}
with

export_log as (
    select * from {{ source('runs', 'export_log') }}
),

final as (
    select
        build_number,
        as_of_date,
        lower(event) as export_event,
        recorded_at
    from export_log
    where lower(event) in ('exported', 'delivered')
)

select * from final
