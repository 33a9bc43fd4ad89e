{%- set class_levels = input_relation('sis', 'sis_class_levels') -%}
{{ require_columns(class_levels, 'sis_class_levels.csv', ['class_level', 'school_year_name']) }}

with

class_levels as (
    select * from {{ class_levels }}
),

cleaned as (
    select
        lower({{ clean_text('class_level') }}) as class_level_key,
        {{ clean_text('school_year_name') }} as school_year_name_text
    from class_levels
),

deduplicated as (
    -- A code listed twice keeps one mapping (the first in byte order); the
    -- warn-level test on the source reports the duplicate.
    select
        class_level_key,
        min({{ bytewise('school_year_name_text') }}) as school_year_name_text
    from cleaned
    where class_level_key is not null
    group by class_level_key
),

final as (
    select
        class_level_key,
        school_year_name_text,
        {{ canonical_preset('school_year_name_text', 'school_year_name') }} as school_year_name
    from deduplicated
)

select * from final
