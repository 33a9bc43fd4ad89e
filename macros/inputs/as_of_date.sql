{#
    The run's date (plus `offset_days`, which may be negative) as a SQL date
    literal. Offsets are computed here, at compile time, so every engine sees
    a plain constant: as_of_date(-180) is the first day of the alumni lookback.
#}
{% macro as_of_date(offset_days=0) -%}
    {%- set day = as_of_date_value() + modules.datetime.timedelta(days=offset_days | int) -%}
    cast('{{ day.strftime("%Y-%m-%d") }}' as date)
{%- endmacro %}
