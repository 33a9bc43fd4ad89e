{#
    A single-column key for a grain of several text columns (so that dbt's
    own unique and not_null tests can check it): each value prefixed with its
    length, joined with ':' - '4:1001:7:Biology' - so that no two different
    combinations give the same key whatever characters the values hold.
    The columns must not be null.
#}
{% macro composite_key(column_names) -%}
    {%- set parts = [] -%}
    {%- for column_name in column_names -%}
        {%- do parts.append('cast(length(' ~ column_name ~ ') as ' ~ dbt.type_string() ~ ')') -%}
        {%- do parts.append("':'") -%}
        {%- do parts.append(column_name) -%}
        {%- if not loop.last -%}
            {%- do parts.append("':'") -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}
