{#
    Handshake's preset lists (reference/handshake-import-format.md): the only
    values the importer accepts in school_year_name and
    primary_education:education_level_name.
#}
{% macro handshake_presets(kind) -%}
    {%- set presets = {
        'school_year_name': [
            'Freshman', 'Sophomore', 'Junior', 'Senior',
            'First Year Community / Technical College',
            'Second Year Community / Technical College',
            'Certificate Program', 'Masters', 'Masters of Business Administration',
            'Accelerated Masters', 'Doctorate', 'Postdoctoral Studies', 'Alumni'
        ],
        'education_level_name': [
            'Associates', 'Certificate', 'Advanced Certificate', 'Bachelors', 'Masters',
            'Doctorate', 'Postdoctoral Studies', 'Non-Degree Seeking', 'Technical Diploma'
        ]
    } -%}
    {%- if kind not in presets -%}
        {{ exceptions.raise_compiler_error("Unknown Handshake preset list '" ~ kind ~ "'.") }}
    {%- endif -%}
    {{ return(presets[kind]) }}
{%- endmacro %}
