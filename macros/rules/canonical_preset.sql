{#
    Match a text expression to one of Handshake's presets (`kind`:
    school_year_name or education_level_name) ignoring case and surrounding
    spaces; returns the preset's own spelling, or null when it is not a preset.
#}
{% macro canonical_preset(column_name, kind) -%}
    case lower(trim({{ column_name }}))
        {%- for preset in handshake_presets(kind) %}
        when '{{ preset | lower }}' then '{{ preset }}'
        {%- endfor %}
    end
{%- endmacro %}
