{%- set students = input_relation('sis', 'sis_students') -%}
{{ require_columns(students, 'sis_students.csv', [
    'student_id', 'username', 'auth_identifier', 'first_name', 'last_name',
    'campus_email', 'personal_email', 'class_level', 'education_level',
    'cumulative_gpa', 'program_start_date', 'expected_graduation_date',
    'graduation_date', 'enrollment_status', 'campus_email_expires_on', 'sso_enabled'
]) }}

with

students as (
    select * from {{ students }}
),

cleaned as (
    select
        {{ clean_text('student_id') }} as student_id,
        {{ clean_text('username') }} as username,
        {{ clean_text('auth_identifier') }} as auth_identifier,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ normalize_email('campus_email') }} as campus_email,
        {{ normalize_email('personal_email') }} as personal_email,
        {{ clean_text('class_level') }} as class_level,
        {{ clean_text('education_level') }} as education_level_text,
        {{ clean_text('cumulative_gpa') }} as cumulative_gpa_text,
        {{ clean_text('program_start_date') }} as program_start_date_text,
        {{ clean_text('expected_graduation_date') }} as expected_graduation_date_text,
        {{ clean_text('graduation_date') }} as graduation_date_text,
        lower({{ clean_text('enrollment_status') }}) as enrollment_status,
        {{ clean_text('campus_email_expires_on') }} as campus_email_expires_on_text,
        {{ parse_boolean('sso_enabled') }} as is_sso_enabled
    from students
),

parsed as (
    select
        student_id,
        username,
        auth_identifier,
        first_name,
        last_name,
        campus_email,
        personal_email,
        class_level,
        education_level_text,
        {{ canonical_preset('education_level_text', 'education_level_name') }} as education_level_name,
        cumulative_gpa_text,
        case
            -- 0 to 4 checked on the text itself (0-3 with any decimals, 4 with
            -- only zeros), so 4.0000001 is not rounded into range.
            when {{ matches_pattern('cumulative_gpa_text', '^0*([0-3]([.][0-9]*)?|4([.]0*)?|[.][0-9]+)$') }}
                then cast(cumulative_gpa_text as decimal(12, 6))
        end as cumulative_gpa_number,
        program_start_date_text,
        {{ parse_date('program_start_date_text') }} as program_start_date,
        expected_graduation_date_text,
        {{ parse_date('expected_graduation_date_text') }} as expected_graduation_date,
        graduation_date_text,
        {{ parse_date('graduation_date_text') }} as graduation_date,
        enrollment_status,
        campus_email_expires_on_text,
        {{ parse_date('campus_email_expires_on_text') }} as campus_email_expires_on,
        is_sso_enabled
    from cleaned
    where student_id is not null
),

keyed as (
    select
        student_id
        || '#'
        || cast(row_number() over (
            partition by student_id
            order by
                program_start_date_text,
                username,
                enrollment_status,
                expected_graduation_date_text,
                graduation_date_text,
                class_level,
                education_level_text,
                first_name,
                last_name,
                campus_email,
                personal_email
        ) as {{ dbt.type_string() }}) as student_program_id,
        student_id,
        username,
        auth_identifier,
        first_name,
        last_name,
        campus_email,
        personal_email,
        class_level,
        education_level_text,
        education_level_name,
        cumulative_gpa_text,
        cumulative_gpa_number as cumulative_gpa,
        cumulative_gpa_text is not null and cumulative_gpa_number is null as is_cumulative_gpa_invalid,
        program_start_date_text,
        program_start_date,
        expected_graduation_date_text,
        expected_graduation_date,
        graduation_date_text,
        graduation_date,
        enrollment_status,
        campus_email_expires_on_text,
        campus_email_expires_on,
        is_sso_enabled
    from parsed
)

select * from keyed
