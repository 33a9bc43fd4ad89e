{#
    One row per build: sync_runs' row of each build, kept across builds
    (sync_runs itself holds only the current build's). Append-only: each
    build adds its own row, which works on every engine (Spark's Parquet
    tables too); full_refresh is off, so --full-refresh never drops it.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}

with

sync_runs as (
    select * from {{ ref('sync_runs') }}
),

builds as (
    select * from {{ ref('stg_runs__builds') }}
    where is_current_build
),

final as (
    select
        builds.build_number,
        builds.invocation_id,
        builds.started_at,
        sync_runs.*
    from sync_runs
    cross join builds
)

select * from final
