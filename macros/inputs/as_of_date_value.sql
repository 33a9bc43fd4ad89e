{#
    The run's date as a Python date: the `as_of_date` var (YYYY-MM-DD), or
    today in UTC taken from the run's start time. This is the project's only
    clock; every date rule goes through as_of_date().
#}
{% macro as_of_date_value() -%}
    {%- set raw = var('as_of_date', none) -%}
    {%- if raw is none or (raw | string | trim) in ('', 'None', 'null', 'today') -%}
        {{ return(run_started_at.date()) }}
    {%- endif -%}
    {%- set text = raw | string | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error("Setting as_of_date must be a date written YYYY-MM-DD, got '" ~ text ~ "'.") }}
    {%- endif -%}
    {%- set parsed = none -%}
    {%- set parsed = modules.datetime.datetime.strptime(text, '%Y-%m-%d').date() -%}
    {{ return(parsed) }}
{%- endmacro %}
