{#
    Match a text expression to one of Handshake's presets (`kind`: the
    preset_list of seeds/handshake_presets.csv, school_year_name or
    education_level_name) ignoring case and surrounding spaces; returns the
    preset's own spelling, or null when it is not a preset. A scalar subquery
    of the seed (max: Spark needs an aggregate), which the engines plan as a
    join.
#}
{% macro canonical_preset(column_name, kind) -%}
    (
        select max(presets.value)
        from {{ ref('handshake_presets') }} as presets
        where
            presets.preset_list = '{{ kind }}'
            and lower(presets.value) = lower(trim({{ column_name }}))
    )
{%- endmacro %}
