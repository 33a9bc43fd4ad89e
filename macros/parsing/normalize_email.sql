{# An email address as compared and sent: trimmed, lower case, empty as null. #}
{% macro normalize_email(column_name) -%}
    lower({{ clean_text(column_name) }})
{%- endmacro %}
