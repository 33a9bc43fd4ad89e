{# Null-safe "differs": true when exactly one side is null or both are set and unequal. #}
{% macro is_distinct(left_expression, right_expression) -%}
    coalesce(
        {{ left_expression }} != {{ right_expression }},
        {{ left_expression }} is not null or {{ right_expression }} is not null
    )
{%- endmacro %}
