{#
    A report cell as written: a value that spreadsheets would read as a
    formula (is_unsafe_value: it starts with = + - @, tab or CR) gets a
    leading apostrophe, so the spreadsheet shows it as text. Used by the
    marts of the human reports (import_issues, student_outcomes,
    password_notices), which the export writes verbatim. Null stays null.
#}
{% macro escape_formula(column_name) -%}
    case
        when {{ is_unsafe_value(column_name) }} then chr(39) || {{ column_name }}
        else {{ column_name }}
    end
{%- endmacro %}
