-- What: SIS rows with a blank student_id. They cannot be given an outcome
--   (the outcome is per student_id), so staging leaves them out.
-- When: warns (bad input is expected and reported, never fatal).
-- How: count the raw rows whose student_id is blank.
{{ config(severity='warn') }}

select *
from {{ input_relation('sis', 'sis_students') }}
where {{ clean_text('student_id') }} is null
