{# A valid GPA (numeric, 0 to 4) as Handshake reads it: two decimals (3.5 -> 3.50). #}
{% macro render_gpa(gpa_expression) -%}
    cast(cast({{ gpa_expression }} as decimal(3, 2)) as {{ dbt.type_string() }})
{%- endmacro %}
