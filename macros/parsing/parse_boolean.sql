{# Parse a raw true/false cell (any case; also yes/no, y/n, t/f, 1/0); anything else is null. #}
{% macro parse_boolean(column_name) -%}
    case
        when lower({{ clean_text(column_name) }}) in ('true', 't', 'yes', 'y', '1') then true
        when lower({{ clean_text(column_name) }}) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}
