{# A date as Handshake reads it: YYYY-MM-DD text (null stays null = blank cell). #}
{% macro render_date(date_expression) -%}
    cast({{ date_expression }} as {{ dbt.type_string() }})
{%- endmacro %}
