{# A boolean as Handshake reads it: TRUE / FALSE (case-sensitive); null stays blank. #}
{% macro render_boolean(boolean_expression) -%}
    case
        when {{ boolean_expression }} then 'TRUE'
        when not {{ boolean_expression }} then 'FALSE'
    end
{%- endmacro %}
