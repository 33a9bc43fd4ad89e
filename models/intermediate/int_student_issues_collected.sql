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

issue_codes as (
    select * from {{ ref('issue_codes') }}
),

identity_issues as (
    select
        student_id,
        'missing_username' as code,
        'username is blank' as detail
    from students
    where is_missing_username
    union all
    select
        student_id,
        'duplicate_username' as code,
        'username also used by student_id ' || username_shared_with as detail
    from students
    where username_shared_with is not null
    union all
    select
        student_id,
        'invalid_date' as code,
        case
            when program_count = 1 then 'program_start_date is blank or not a date (YYYY-MM-DD or MM/DD/YYYY)'
            else 'program_start_date is blank or not a date (YYYY-MM-DD or MM/DD/YYYY) in '
                || cast(invalid_program_start_count as {{ dbt.type_string() }}) || ' of '
                || cast(program_count as {{ dbt.type_string() }}) || ' programme rows'
        end as detail
    from students
    where has_invalid_program_start
    union all
    select
        student_id,
        'ambiguous_primary_program' as code,
        cast(primary_candidate_count as {{ dbt.type_string() }}) || ' programmes start on '
        || {{ render_date('program_start_date') }} as detail
    from students
    where is_primary_program_ambiguous
),

status_checked_students as (
    select * from students
    where not has_identity_error and not coalesce(is_withdrawn, false)
),

status_issues as (
    select
        student_id,
        'unknown_enrollment_status' as code,
        'enrollment_status '''
        || coalesce(enrollment_status, '')
        || ''' is not enrolled, on_leave, graduated or withdrawn'
            as detail
    from status_checked_students
    where is_unknown_enrollment_status
    union all
    select
        student_id,
        'invalid_date' as code,
        'not a date (YYYY-MM-DD or MM/DD/YYYY): ' || concat_ws(
            ', ',
            case when is_expected_graduation_date_invalid then 'expected_graduation_date' end,
            case when is_graduation_date_invalid then 'graduation_date' end,
            case when is_campus_email_expires_on_invalid then 'campus_email_expires_on' end
        ) as detail
    from status_checked_students
    where is_expected_graduation_date_invalid or is_graduation_date_invalid or is_campus_email_expires_on_invalid
    union all
    select
        student_id,
        'missing_graduation_date' as code,
        'enrollment_status is graduated but graduation_date is blank' as detail
    from status_checked_students
    where is_missing_graduation_date
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
    select
        student_id,
        'missing_first_name' as code,
        'first_name is blank and Handshake does not hold this username yet' as detail
    from sync_rows_checked
    where first_name is null and not is_in_handshake
    union all
    select
        student_id,
        'invalid_name' as code,
        concat_ws(
            '; ',
            case when {{ dbt.length('first_name') }} > 50 then 'first_name is over 50 characters' end,
            case when {{ matches_pattern('first_name', '[0-9]') }} then 'first_name contains a digit' end,
            case when {{ dbt.length('last_name') }} > 50 then 'last_name is over 50 characters' end,
            case when {{ matches_pattern('last_name', '[0-9]') }} then 'last_name contains a digit' end
        ) as detail
    from sync_rows_checked
    where
        coalesce({{ dbt.length('first_name') }} > 50, false)
        or coalesce({{ matches_pattern('first_name', '[0-9]') }}, false)
        or coalesce({{ dbt.length('last_name') }} > 50, false)
        or coalesce({{ matches_pattern('last_name', '[0-9]') }}, false)
    union all
    select
        student_id,
        'unknown_education_level' as code,
        case
            when education_level_text is null then 'education_level is blank'
            else 'education_level ''' || education_level_text || ''' is not a Handshake education level'
        end as detail
    from sync_rows_checked
    where education_level_name is null
    union all
    select
        student_id,
        'end_before_start' as code,
        case
            when enrollment_status = 'graduated' then 'graduation_date '
            else 'expected_graduation_date '
        end
        || {{ render_date('program_end_date') }}
        || ' is before program_start_date '
        || {{ render_date('start_date_to_send') }} as detail
    from sync_rows_checked
    where program_end_date < start_date_to_send
    union all
    select
        student_id,
        'unknown_class_level' as code,
        case
            when class_level is null then 'class_level is blank'
            when not is_class_level_known then 'class_level ''' || class_level || ''' is not in sis_class_levels'
            else 'class_level ''' || class_level || ''' maps to ''' || coalesce(mapped_school_year_name, '')
                || ''', not a Handshake school year'
        end as detail
    from sync_rows_checked
    where student_status = 'current' and school_year_name is null
    union all
    select
        student_id,
        'invalid_email' as code,
        case when email_address is null then 'no address to send' else 'the address to send is malformed' end as detail
    from sync_rows_checked
    where not is_email_valid
    union all
    select
        student_id,
        'other_institution_email' as code,
        'the address to send is at another institution (' || email_domain || ')' as detail
    from sync_rows_checked
    where is_email_other_institution
    union all
    select
        student_id,
        'duplicate_email' as code,
        'same address as student_id ' || other_students as detail
    from email_sharers
    union all
    select
        student_id,
        'email_in_use' as code,
        'the address to send is held by Handshake username ' || other_username as detail
    from email_accounts
    union all
    select
        student_id,
        'unsafe_value' as code,
        'starts with = + - @ tab or carriage return: ' || concat_ws(
            ', ',
            case when {{ is_unsafe_value('username') }} then 'username' end,
            case when {{ is_unsafe_value('email_address') }} then 'email_address' end,
            case when {{ is_unsafe_value('auth_identifier') }} then 'auth_identifier' end,
            case when {{ is_unsafe_value('first_name') }} then 'first_name' end,
            case when {{ is_unsafe_value('last_name') }} then 'last_name' end,
            case when has_unsafe_major_name then 'major_name' end
        ) as detail
    from sync_rows_checked
    where
        {{ is_unsafe_value('username') }}
        or {{ is_unsafe_value('email_address') }}
        or {{ is_unsafe_value('auth_identifier') }}
        or {{ is_unsafe_value('first_name') }}
        or {{ is_unsafe_value('last_name') }}
        or has_unsafe_major_name
),

rows_with_errors as (
    select distinct student_id from row_issues
),

rows_without_errors as (
    select sync_rows_checked.*
    from sync_rows_checked
    left join rows_with_errors
        on sync_rows_checked.student_id = rows_with_errors.student_id
    where rows_with_errors.student_id is null
),

warnings as (
    select
        student_id,
        'personal_email_unusable' as code,
        personal_email_unusable_reason as detail
    from rows_without_errors
    where personal_email_unusable_reason is not null
    union all
    select
        student_id,
        'invalid_gpa' as code,
        'cumulative_gpa ''' || cumulative_gpa_text || ''' is not a number from 0 to 4; sent blank' as detail
    from rows_without_errors
    where is_cumulative_gpa_invalid
    union all
    select
        student_id,
        'expected_graduation_past' as code,
        'expected_graduation_date ' || {{ render_date('program_end_date') }} || ' is before as_of_date '
        || {{ render_date(as_of_date()) }} || '; end date sent as '
        || case when end_date = '**CLEAR**' then '**CLEAR**' else 'blank' end as detail
    from rows_without_errors
    where is_expected_graduation_past
),

issues as (
    select
        student_id,
        code,
        detail
    from identity_issues
    union all
    select
        student_id,
        code,
        detail
    from status_issues
    union all
    select
        student_id,
        code,
        detail
    from row_issues
    union all
    select
        student_id,
        code,
        detail
    from warnings
),

final as (
    select
        {{ composite_key(['issues.student_id', 'issues.code']) }} as issue_id,
        issues.student_id,
        students.username,
        issues.code,
        issue_codes.severity,
        issue_codes.sort_order as code_order,
        issues.detail
    from issues
    inner join students
        on issues.student_id = students.student_id
    left join issue_codes
        on issues.code = issue_codes.code
)

select * from final
