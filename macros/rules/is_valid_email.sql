{#
    True when a normalized address is well formed: one @, a local part of
    letters, digits and . _ % + -, and a domain of at least two labels.
#}
{% macro is_valid_email(email_expression) -%}
    coalesce({{ matches_pattern(email_expression, '^[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)+$') }}, false)
{%- endmacro %}
