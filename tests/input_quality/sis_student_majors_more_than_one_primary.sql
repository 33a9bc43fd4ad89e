-- What: students with more than one primary major (at most one is allowed).
-- When: warns; the first primary major in byte order is sent.
-- How: count primary rows per student in staging.
{{ config(severity='warn') }}

select
    student_id,
    count(*) as primary_major_count
from {{ ref('stg_sis__student_majors') }}
where is_primary
group by student_id
having count(*) > 1
