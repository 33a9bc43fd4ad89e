{#
    on-run-start hook: on DuckDB, `set preserve_insertion_order = false`.
    Every table here is a set (no model relies on the order rows were
    inserted in; the export orders every file explicitly), so DuckDB may read
    the CSV files and write tables in parallel without keeping row order:
    about an eighth faster at a million students (benchmarks/README.md).
    Other engines: nothing (an empty hook).
#}
{% macro set_duckdb_unordered_inserts() -%}
    {%- if target.type == 'duckdb' -%}
        set preserve_insertion_order = false
    {%- endif -%}
{%- endmacro %}
