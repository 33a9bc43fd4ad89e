{#
    The build log's hooks on Spark, which runs one statement per call and
    updates rows only in Delta tables (see record_build_start.sql and
    record_build_end.sql for what they record).
#}
{% macro spark__record_build_start(build_log) -%}
    {%- set statements = default__record_build_start(build_log).split(';') | map('trim') | select | list -%}
    {%- for sql in statements[:-1] -%}
        {%- do run_query(sql) -%}
    {%- endfor -%}
    {{ return(statements[-1]) }}
{%- endmacro %}

{#
    No UPDATE on a plain (Parquet) table: the log is copied with this
    invocation's row finished, then the copy replaces it. Should the run die
    in between, the log is gone and the export refuses to write anything
    until the next dbt build: it never accepts an unfinished build.
#}
{% macro spark__record_build_end(build_log, failed_nodes, models_built, models_total) -%}
    {%- set finished = build_log.incorporate(path={'identifier': build_log.identifier ~ '__finished'}) -%}
    {%- set is_this_run = "invocation_id = '" ~ invocation_id ~ "'" -%}
    {%- do run_query('drop table if exists ' ~ finished) -%}
    {%- do run_query(
        'create table ' ~ finished ~ ' as select build_number, invocation_id, command, started_at,'
        ~ ' case when ' ~ is_this_run ~ ' then ' ~ dbt.current_timestamp() ~ ' else finished_at end as finished_at,'
        ~ ' case when ' ~ is_this_run ~ ' then ' ~ failed_nodes ~ ' else failed_nodes end as failed_nodes,'
        ~ ' case when ' ~ is_this_run ~ ' then ' ~ models_built ~ ' else models_built end as models_built,'
        ~ ' case when ' ~ is_this_run ~ ' then ' ~ models_total ~ ' else models_total end as models_total'
        ~ ' from ' ~ build_log
    ) -%}
    {%- do run_query('drop table ' ~ build_log) -%}
    {%- do run_query('alter table ' ~ finished ~ ' rename to ' ~ build_log) -%}
    {{ return('') }}
{%- endmacro %}
