{#
    The build log: one row per dbt command that creates or replaces tables
    (build, run, seed, snapshot, retry, clone), written by the on-run-start
    and on-run-end hooks. It lives beside the marts (the schema of
    sync_runs), where scripts/export_csv.py reads it to refuse stale or
    untested tables. Returns none for the commands that change no table
    (compile, docs generate, test, show, ...), so that they never touch it.
#}
{% macro build_log_relation() -%}
    {%- if not execute or flags.WHICH not in ('build', 'run', 'seed', 'snapshot', 'retry', 'clone') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set sync_runs = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', 'sync_runs') | first -%}
    {{ return(api.Relation.create(
        database=sync_runs.database,
        schema=sync_runs.schema,
        identifier='build_log',
        type='table'
    )) }}
{%- endmacro %}
