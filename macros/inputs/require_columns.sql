{#
    Stop the run with a clear message when an input lacks a required column:
    it names the input file and the column. Checked when the staging model
    runs (extra columns are fine and ignored).
#}
{% macro require_columns(relation, file_name, column_names) -%}
    {%- set present = none -%}
    {%- if execute and relation is string and 'read_csv(' in relation -%}
        {#- A CSV file read in place (var raw_data_dir): ask DuckDB for its header. -#}
        {%- set present = run_query('describe select * from ' ~ relation).columns[0].values() | map('lower') | list -%}
    {%- elif execute and relation is not string and relation.identifier is defined -%}
        {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- endif -%}
    {%- if present is not none -%}
        {%- set missing = [] -%}
        {%- for column_name in column_names -%}
            {%- if column_name | lower not in present -%}
                {%- do missing.append(column_name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if present | length > 0 and missing | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                "Input file " ~ file_name ~ " is missing required column(s): "
                ~ missing | join(', ') ~ " (read from " ~ relation ~ ")."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
