{#
    Trim surrounding spaces from a raw text column; an empty cell becomes null.
    Only spaces are trimmed: a leading tab stays, so the formula-injection check
    still sees it.
    trim() runs only on a value that starts or ends with a space: the result is
    the same, and most cells have none, so the staging models skip a copy of
    nearly every string (on DuckDB the plain trim doubled the cost of reading
    sis_students.csv; benchmarks/README.md).
#}
{% macro clean_text(column_name) -%}
    nullif(
        case
            when {{ column_name }} like ' %' or {{ column_name }} like '% ' then trim({{ column_name }})
            else {{ column_name }}
        end,
        ''
    )
{%- endmacro %}
