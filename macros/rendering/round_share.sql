{#
    The share numerator / denominator rounded to 4 decimals, half to even,
    as a double: exactly what Python's round(numerator / denominator, 4)
    gives (the export's manifest wrote that before the share moved to SQL).
    `floor_column` holds floor(numerator * 10000 / denominator); the rest is
    integer arithmetic, so no engine's float rounding decides a tie.
    A zero denominator gives 0.
#}
{% macro round_share(numerator, denominator, floor_column, double_type='double') -%}
    case
        when {{ denominator }} = 0 then cast(0 as {{ double_type }})
        else cast(
            {{ floor_column }}
            + case
                when 2 * ({{ numerator }} * 10000 - {{ floor_column }} * {{ denominator }}) > {{ denominator }}
                    then 1
                when 2 * ({{ numerator }} * 10000 - {{ floor_column }} * {{ denominator }}) = {{ denominator }}
                    then {{ floor_column }} % 2
                else 0
            end
            as {{ double_type }}
        ) / 10000
    end
{%- endmacro %}
