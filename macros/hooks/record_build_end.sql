{#
    on-run-end hook: finish this invocation's row of the build log with the
    number of failed nodes (error, fail, runtime error, partial success, and
    skipped nodes other than exposures: what makes `dbt build` exit non-zero)
    and how many of the project's models this invocation built. Not reached
    when the command is interrupted (Ctrl-C, SIGTERM, a crash): the row then
    stays unfinished. Returns the SQL to run ('' for commands that are not
    logged).
#}
{% macro record_build_end(results) -%}
    {%- set build_log = build_log_relation() -%}
    {%- if build_log is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set failed = [] -%}
    {%- set built = [] -%}
    {%- for result in results -%}
        {%- set status = result.status | string | lower -%}
        {%- set resource_type = result.node.resource_type | string | lower -%}
        {%- if status in ('error', 'fail', 'runtime error', 'partial success')
            or (status == 'skipped' and resource_type != 'exposure') -%}
            {%- do failed.append(result.node.unique_id) -%}
        {%- elif status == 'success' and resource_type == 'model' -%}
            {%- do built.append(result.node.unique_id) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set models = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model') | list -%}
    {{ return(adapter.dispatch('record_build_end', 'handshake_alumni')(
        build_log, failed | length, built | length, models | length
    )) }}
{%- endmacro %}

{% macro default__record_build_end(build_log, failed_nodes, models_built, models_total) -%}
    update {{ build_log }}
    set
        finished_at = {{ dbt.current_timestamp() }},
        failed_nodes = {{ failed_nodes }},
        models_built = {{ models_built }},
        models_total = {{ models_total }}
    where invocation_id = '{{ invocation_id }}'
{%- endmacro %}
