{#
    A whole-number-of-days setting (a dbt var), validated: a non-negative
    integer, or none when `allow_none` and the var is unset, null or blank.
    A bad value stops the run with a message naming the setting.
#}
{% macro setting_days(name, allow_none=false) -%}
    {%- set raw = var(name, none) -%}
    {%- if raw is none or (raw | string | trim) in ('', 'None', 'null') -%}
        {%- if allow_none -%}
            {{ return(none) }}
        {%- endif -%}
        {{ exceptions.raise_compiler_error("Setting " ~ name ~ " must be a whole number of days.") }}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- if not modules.re.match('^[0-9]+$', text) -%}
        {{ exceptions.raise_compiler_error("Setting " ~ name ~ " must be a whole number of days (0 or more), got '" ~ text ~ "'.") }}
    {%- endif -%}
    {{ return(text | int) }}
{%- endmacro %}
