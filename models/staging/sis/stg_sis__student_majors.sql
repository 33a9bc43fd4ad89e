{%- set majors = input_relation('sis', 'sis_student_majors') -%}
{{ require_columns(majors, 'sis_student_majors.csv', ['student_id', 'major_name', 'is_primary']) }}

with

majors as (
    select * from {{ majors }}
),

cleaned as (
    select
        {{ clean_text('student_id') }} as student_id,
        {{ clean_text('major_name') }} as major_name,
        coalesce({{ parse_boolean('is_primary') }}, false) as is_primary
    from majors
),

deduplicated as (
    select
        {{ composite_key(['student_id', 'major_name']) }} as student_major_id,
        student_id,
        major_name,
        max(case when is_primary then 1 else 0 end) = 1 as is_primary
    from cleaned
    where student_id is not null and major_name is not null
    group by student_id, major_name
)

select * from deduplicated
