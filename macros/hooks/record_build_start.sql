{#
    on-run-start hook: create the build log if missing and add this
    invocation's row (build_number = the next number, the command, the start
    time; not finished yet). A build that is interrupted or killed never
    finishes its row, so the export refuses the tables it left behind.
    Returns the SQL to run ('' for commands that are not logged).
#}
{% macro record_build_start() -%}
    {%- set build_log = build_log_relation() -%}
    {%- if build_log is none -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('record_build_start', 'handshake_alumni')(build_log)) }}
{%- endmacro %}

{% macro default__record_build_start(build_log) -%}
    create schema if not exists {{ build_log.without_identifier().include(database=false) }};
    create table if not exists {{ build_log }} (
        build_number {{ dbt.type_int() }},
        invocation_id {{ dbt.type_string() }},
        command {{ dbt.type_string() }},
        started_at {{ dbt.type_timestamp() }},
        finished_at {{ dbt.type_timestamp() }},
        failed_nodes {{ dbt.type_int() }},
        models_built {{ dbt.type_int() }},
        models_total {{ dbt.type_int() }}
    );
    insert into {{ build_log }} (build_number, invocation_id, command, started_at)
    select
        coalesce(max(build_number), 0) + 1,
        '{{ invocation_id }}',
        '{{ flags.WHICH }}',
        {{ dbt.current_timestamp() }}
    from {{ build_log }};
{%- endmacro %}
