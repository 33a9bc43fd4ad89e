{#
    Step 2 of the decision order: the student's status from the primary
    programme, and what Handshake holds for the same username.
#}
with

students as (
    select * from {{ ref('int_students_identified') }}
),

handshake_users as (
    select * from {{ ref('stg_handshake__users') }}
),

status_checked as (
    select
        students.*,
        students.enrollment_status = 'withdrawn' as is_withdrawn,
        coalesce(
            students.enrollment_status not in ('enrolled', 'on_leave', 'graduated', 'withdrawn'),
            true
        ) as is_unknown_enrollment_status,
        students.enrollment_status = 'graduated'
        and students.graduation_date_text is null as is_missing_graduation_date,
        students.expected_graduation_date_text is not null
        and students.expected_graduation_date is null as is_expected_graduation_date_invalid,
        students.graduation_date_text is not null
        and students.graduation_date is null as is_graduation_date_invalid,
        students.campus_email_expires_on_text is not null
        and students.campus_email_expires_on is null as is_campus_email_expires_on_invalid
    from students
),

status_classified as (
    select
        *,
        is_unknown_enrollment_status
        or is_missing_graduation_date
        or is_expected_graduation_date_invalid
        or is_graduation_date_invalid
        or is_campus_email_expires_on_invalid as has_status_error,
        case
            when enrollment_status = 'withdrawn' then 'withdrawn'
            when enrollment_status in ('enrolled', 'on_leave') then 'current'
            when enrollment_status = 'graduated' and graduation_date <= {{ as_of_date() }} then 'alumni'
            when enrollment_status = 'graduated' and graduation_date > {{ as_of_date() }} then 'current'
        end as student_status
    from status_checked
),

joined_to_handshake as (
    select
        status_classified.*,
        handshake_users.username is not null as is_in_handshake,
        handshake_users.email_address as handshake_email_address,
        handshake_users.school_year_name as handshake_school_year_name,
        coalesce(handshake_users.is_alumni, false) as is_alumni_in_handshake,
        handshake_users.start_date as handshake_start_date,
        handshake_users.end_date as handshake_end_date,
        handshake_users.is_currently_attending as handshake_is_currently_attending,
        handshake_users.is_disabled as handshake_is_disabled
    from status_classified
    left join handshake_users
        on status_classified.username = handshake_users.username
),

final as (
    select
        *,
        student_status = 'current' and is_alumni_in_handshake as is_returning_student,
        -- The date the programme ends as the SIS knows it: the expected date
        -- for current students, the conferral date once graduated (also a
        -- future conferral, which keeps the student current until that day).
        case
            when enrollment_status = 'graduated' then graduation_date
            else expected_graduation_date
        end as program_end_date
    from joined_to_handshake
)

select * from final
