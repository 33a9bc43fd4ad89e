{# The domain of a normalized address: the text after the @ (null when invalid). #}
{% macro email_domain(email_expression) -%}
    case
        when {{ is_valid_email(email_expression) }}
            then {{ dbt.split_part(email_expression, "'@'", 2) }}
    end
{%- endmacro %}
