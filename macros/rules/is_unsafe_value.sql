{#
    True when a text cell starts with a character that spreadsheets read as a
    formula (= + - @), or with a tab or carriage return: formula injection.
#}
{% macro is_unsafe_value(column_name) -%}
    coalesce(
        substr({{ column_name }}, 1, 1) in ('=', '+', '-', '@', chr(9), chr(13)),
        false
    )
{%- endmacro %}
