{#
    Every error and warning of SPEC section 5, one row per student and code,
    raised in the decision order: (1) identity and primary programme for
    everyone; (2) status for those who passed (1) and did not withdraw;
    (4) every remaining check for students in the sync file's scope.
    Warnings only for rows that pass every error check (they are exported).
#}
with

students as (
    select * from {{ ref('int_students_classified') }}
),

sync_rows as (
    select * from {{ ref('int_sync_rows_built') }}
    where is_in_sync_scope
),

addresses as (
    select * from {{ ref('int_email_addresses_classified') }}
),

handshake_users as (
    select * from {{ ref('stg_handshake__users') }}
),

identity_issues as (
    select student_id, 'missing_username' as code, 'username is blank' as detail
    from students where is_missing_username
    union all
    select student_id, 'duplicate_username', 'username also used by student_id ' || username_shared_with
    from students where username_shared_with is not null
    union all
    select
        student_id,
        'invalid_date',
        case
            when program_count = 1 then 'program_start_date is blank or not a date (YYYY-MM-DD or MM/DD/YYYY)'
            else 'program_start_date is blank or not a date (YYYY-MM-DD or MM/DD/YYYY) in '
                || cast(invalid_program_start_count as {{ dbt.type_string() }}) || ' of '
                || cast(program_count as {{ dbt.type_string() }}) || ' programme rows'
        end
    from students where has_invalid_program_start
    union all
    select
        student_id,
        'ambiguous_primary_program',
        cast(primary_candidate_count as {{ dbt.type_string() }}) || ' programmes start on '
        || {{ render_date('program_start_date') }}
    from students where is_primary_program_ambiguous
),

status_checked_students as (
    select * from students
    where not has_identity_error and not coalesce(is_withdrawn, false)
),

status_issues as (
    select
        student_id,
        'unknown_enrollment_status' as code,
        'enrollment_status ''' || coalesce(enrollment_status, '') || ''' is not enrolled, on_leave, graduated or withdrawn'
        as detail
    from status_checked_students where is_unknown_enrollment_status
    union all
    select
        student_id,
        'invalid_date',
        'not a date (YYYY-MM-DD or MM/DD/YYYY): ' || concat_ws(
            ', ',
            case when is_expected_graduation_date_invalid then 'expected_graduation_date' end,
            case when is_graduation_date_invalid then 'graduation_date' end,
            case when is_campus_email_expires_on_invalid then 'campus_email_expires_on' end
        )
    from status_checked_students
    where is_expected_graduation_date_invalid or is_graduation_date_invalid or is_campus_email_expires_on_invalid
    union all
    select student_id, 'missing_graduation_date', 'enrollment_status is graduated but graduation_date is blank'
    from status_checked_students where is_missing_graduation_date
),

sync_rows_checked as (
    select
        sync_rows.*,
        coalesce(addresses.is_valid_email, false) as is_email_valid,
        coalesce(addresses.is_other_institution, false) as is_email_other_institution,
        addresses.email_domain
    from sync_rows
    left join addresses
        on sync_rows.email_address = addresses.email_address
),

email_sharing_pairs as (
    select
        sync_rows.student_id,
        other_rows.student_id as other_student_id
    from sync_rows
    inner join sync_rows as other_rows
        on
            sync_rows.email_address = other_rows.email_address
            and sync_rows.student_id != other_rows.student_id
),

email_sharers as (
    {{ describe_other_students('email_sharing_pairs') }}
),

email_accounts as (
    select
        sync_rows.student_id,
        min({{ bytewise('handshake_users.username') }}) as other_username
    from sync_rows
    inner join handshake_users
        on
            sync_rows.email_address = handshake_users.email_address
            and sync_rows.username != handshake_users.username
    group by sync_rows.student_id
),

row_issues as (
    select student_id, 'missing_first_name' as code, 'first_name is blank and Handshake does not hold this username yet' as detail
    from sync_rows_checked where first_name is null and not is_in_handshake
    union all
    select
        student_id,
        'invalid_name',
        concat_ws(
            '; ',
            case when {{ dbt.length('first_name') }} > 50 then 'first_name is over 50 characters' end,
            case when {{ matches_pattern('first_name', '[0-9]') }} then 'first_name contains a digit' end,
            case when {{ dbt.length('last_name') }} > 50 then 'last_name is over 50 characters' end,
            case when {{ matches_pattern('last_name', '[0-9]') }} then 'last_name contains a digit' end
        )
    from sync_rows_checked
    where
        coalesce({{ dbt.length('first_name') }} > 50, false)
        or coalesce({{ matches_pattern('first_name', '[0-9]') }}, false)
        or coalesce({{ dbt.length('last_name') }} > 50, false)
        or coalesce({{ matches_pattern('last_name', '[0-9]') }}, false)
    union all
    select
        student_id,
        'unknown_education_level',
        case
            when education_level_text is null then 'education_level is blank'
            else 'education_level ''' || education_level_text || ''' is not a Handshake education level'
        end
    from sync_rows_checked where education_level_name is null
    union all
    select
        student_id,
        'end_before_start',
        case
            when enrollment_status = 'graduated' then 'graduation_date '
            else 'expected_graduation_date '
        end
        || {{ render_date('program_end_date') }} || ' is before program_start_date ' || {{ render_date('start_date_to_send') }}
    from sync_rows_checked where program_end_date < start_date_to_send
    union all
    select
        student_id,
        'unknown_class_level',
        case
            when class_level is null then 'class_level is blank'
            when not is_class_level_known then 'class_level ''' || class_level || ''' is not in sis_class_levels'
            else 'class_level ''' || class_level || ''' maps to ''' || coalesce(mapped_school_year_name, '')
                || ''', not a Handshake school year'
        end
    from sync_rows_checked where student_status = 'current' and school_year_name is null
    union all
    select
        student_id,
        'invalid_email',
        case when email_address is null then 'no address to send' else 'the address to send is malformed' end
    from sync_rows_checked where not is_email_valid
    union all
    select student_id, 'other_institution_email', 'the address to send is at another institution (' || email_domain || ')'
    from sync_rows_checked where is_email_other_institution
    union all
    select student_id, 'duplicate_email', 'same address as student_id ' || other_students
    from email_sharers
    union all
    select student_id, 'email_in_use', 'the address to send is held by Handshake username ' || other_username
    from email_accounts
    union all
    select
        student_id,
        'unsafe_value',
        'starts with = + - @ tab or carriage return: ' || concat_ws(
            ', ',
            case when {{ is_unsafe_value('username') }} then 'username' end,
            case when {{ is_unsafe_value('email_address') }} then 'email_address' end,
            case when {{ is_unsafe_value('auth_identifier') }} then 'auth_identifier' end,
            case when {{ is_unsafe_value('first_name') }} then 'first_name' end,
            case when {{ is_unsafe_value('last_name') }} then 'last_name' end,
            case when has_unsafe_major_name then 'major_name' end
        )
    from sync_rows_checked
    where
        {{ is_unsafe_value('username') }}
        or {{ is_unsafe_value('email_address') }}
        or {{ is_unsafe_value('auth_identifier') }}
        or {{ is_unsafe_value('first_name') }}
        or {{ is_unsafe_value('last_name') }}
        or has_unsafe_major_name
),

rows_without_errors as (
    select sync_rows_checked.*
    from sync_rows_checked
    left join (select distinct student_id from row_issues) as rows_with_errors
        on sync_rows_checked.student_id = rows_with_errors.student_id
    where rows_with_errors.student_id is null
),

warnings as (
    select student_id, 'personal_email_unusable' as code, personal_email_unusable_reason as detail
    from rows_without_errors where personal_email_unusable_reason is not null
    union all
    select
        student_id,
        'invalid_gpa',
        'cumulative_gpa ''' || cumulative_gpa_text || ''' is not a number from 0 to 4; sent blank'
    from rows_without_errors where is_cumulative_gpa_invalid
    union all
    select
        student_id,
        'expected_graduation_past',
        'expected_graduation_date ' || {{ render_date('program_end_date') }} || ' is before as_of_date '
        || {{ render_date(as_of_date()) }} || '; end date sent as '
        || case when end_date = '**CLEAR**' then '**CLEAR**' else 'blank' end
    from rows_without_errors where is_expected_graduation_past
),

issues as (
    select student_id, code, detail from identity_issues
    union all
    select student_id, code, detail from status_issues
    union all
    select student_id, code, detail from row_issues
    union all
    select student_id, code, detail from warnings
),

final as (
    select
        issues.student_id,
        students.username,
        issues.code,
        case issues.code
            {%- for code, severity in issue_codes() %}
            when '{{ code }}' then '{{ severity }}'
            {%- endfor %}
        end as severity,
        case issues.code
            {%- for code, severity in issue_codes() %}
            when '{{ code }}' then {{ loop.index }}
            {%- endfor %}
        end as code_order,
        issues.detail
    from issues
    inner join students
        on issues.student_id = students.student_id
)

select * from final
