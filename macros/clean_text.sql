{#
    Trim surrounding spaces from a raw text column; an empty cell becomes null.
    Only spaces are trimmed: a leading tab stays, so the formula-injection check
    still sees it.
#}
{% macro clean_text(column_name) -%}
    nullif(trim({{ column_name }}), '')
{%- endmacro %}
