{#
    on-run-start hook: cap DuckDB's memory at the var duckdb_memory_limit (an
    amount such as '12GB'); past it DuckDB spills to a folder beside the
    database file instead of growing. Unset: DuckDB's own default, 80 % of
    the machine's memory. Other engines: nothing (an empty hook).
#}
{% macro set_duckdb_memory_limit() -%}
    {%- set limit = var('duckdb_memory_limit', none) | string | trim -%}
    {%- if target.type != 'duckdb' or limit in ('', 'None', 'none', 'null') -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not modules.re.match('^[0-9]+([.][0-9]+)? ?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$', limit) -%}
        {{ exceptions.raise_compiler_error("Setting duckdb_memory_limit must be an amount such as '12GB', got '" ~ limit ~ "'.") }}
    {%- endif -%}
    set memory_limit = '{{ limit }}'
{%- endmacro %}
