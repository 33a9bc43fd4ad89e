{#
    Parse a raw date cell written as YYYY-MM-DD or MM/DD/YYYY. Anything else,
    including impossible calendar days (2026-02-30), gives null; the caller
    compares with the raw text to tell a blank cell from an invalid one.
    Built from string parts and validated before the cast, so no engine ever
    raises on a bad value and no engine silently rolls 02-30 over to March.
#}
{% macro parse_date(column_name) -%}
    case
        when {{ matches_pattern(column_name, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') }}
            then {{ date_from_parts(
                'substr(' ~ column_name ~ ', 1, 4)',
                'substr(' ~ column_name ~ ', 6, 2)',
                'substr(' ~ column_name ~ ', 9, 2)'
            ) }}
        when {{ matches_pattern(column_name, '^[0-9]{2}/[0-9]{2}/[0-9]{4}$') }}
            then {{ date_from_parts(
                'substr(' ~ column_name ~ ', 7, 4)',
                'substr(' ~ column_name ~ ', 1, 2)',
                'substr(' ~ column_name ~ ', 4, 2)'
            ) }}
    end
{%- endmacro %}
