-- What: class-level codes listed twice, or mapped to a school year that is
--   not one of Handshake's presets.
-- When: warns; students with such a code get unknown_class_level.
-- How: raw mapping grouped by code.
{{ config(severity='warn') }}

with

class_levels as (
    select
        lower({{ clean_text('class_level') }}) as class_level_key,
        {{ canonical_preset(clean_text('school_year_name'), 'school_year_name') }} as preset
    from {{ input_relation('sis', 'sis_class_levels') }}
)

select
    class_level_key,
    count(*) as mapping_count,
    max(preset) as preset
from class_levels
group by class_level_key
having count(*) > 1
    or max(preset) is null
