{#
    The row each current student and alumnus would send to Handshake, the
    record Handshake would hold after applying it (blank keeps, **CLEAR**
    wipes), and whether the student belongs in the sync file at all.
#}
{%- set disable_after_days = setting_days('disable_alumni_after_days', allow_none=true) -%}

with

students as (
    select * from {{ ref('int_students_classified') }}
    where
        student_status in ('current', 'alumni')
        and not has_identity_error
        and not has_status_error
),

emails as (
    select * from {{ ref('int_student_emails_resolved') }}
),

majors as (
    select * from {{ ref('stg_sis__student_majors') }}
),

class_levels as (
    select * from {{ ref('stg_sis__class_levels') }}
),

majors_ranked as (
    select
        student_id,
        major_name,
        row_number() over (
            partition by student_id
            order by case when is_primary then 0 else 1 end, {{ bytewise('major_name') }}
        ) as major_rank,
        sum(case when is_primary then 1 else 0 end) over (partition by student_id) as primary_major_count
    from majors
),

majors_listed as (
    -- Primary major first, then the others in byte order, joined with ';'.
    select
        student_id,
        {{ dbt.listagg('major_name', "';'", 'order by major_rank') }} as major_names,
        max(case when major_rank = 1 and primary_major_count > 0 then major_name end) as primary_major_name,
        max(case when {{ is_unsafe_value('major_name') }} then 1 else 0 end) = 1 as has_unsafe_major_name
    from majors_ranked
    group by student_id
),

rows_assembled as (
    select
        students.student_id,
        students.username,
        students.student_status,
        students.enrollment_status,
        students.is_returning_student,
        students.is_in_handshake,
        students.is_sso_enabled,
        emails.email_address,
        emails.alumni_email_step,
        emails.personal_email_unusable_reason,
        students.auth_identifier,
        students.first_name,
        students.last_name,
        students.class_level,
        class_levels.class_level_key is not null as is_class_level_known,
        class_levels.school_year_name_text as mapped_school_year_name,
        case
            when students.student_status = 'alumni' then 'Alumni'
            else class_levels.school_year_name
        end as school_year_name,
        students.education_level_text,
        students.education_level_name,
        students.cumulative_gpa_text,
        students.is_cumulative_gpa_invalid,
        {{ render_gpa('students.cumulative_gpa') }} as cumulative_gpa,
        majors_listed.major_names,
        majors_listed.primary_major_name,
        coalesce(majors_listed.has_unsafe_major_name, false) as has_unsafe_major_name,
        students.program_start_date as start_date_to_send,
        students.program_end_date,
        students.student_status = 'current'
        and students.program_end_date < {{ as_of_date() }} as is_expected_graduation_past,
        case
            when students.student_status = 'alumni' then students.program_end_date
            when students.program_end_date >= {{ as_of_date() }} then students.program_end_date
        end as end_date_to_send,
        students.student_status = 'current' as is_currently_attending,
        case
        {%- if disable_after_days is not none %}
            when
                students.student_status = 'alumni'
                and students.graduation_date <= {{ as_of_date(-disable_after_days) }}
                then true
            {%- endif %}
            when students.student_status = 'current' and students.handshake_is_disabled then false
        end as is_disabled_to_send,
        students.student_status = 'alumni'
        and students.graduation_date >= {{ as_of_date(-setting_days('alumni_lookback_days')) }} as is_recent_graduate,
        students.handshake_email_address,
        students.handshake_school_year_name,
        students.handshake_start_date,
        students.handshake_end_date,
        students.handshake_is_currently_attending,
        students.handshake_is_disabled
    from students
    left join emails
        on students.student_id = emails.student_id
    left join class_levels
        on lower(students.class_level) = class_levels.class_level_key
    left join majors_listed
        on students.student_id = majors_listed.student_id
),

rows_rendered as (
    select
        *,
        {{ resolve_end_date(
            'end_date_to_send',
            'start_date_to_send',
            'is_currently_attending',
            'handshake_start_date',
            'handshake_end_date'
        ) }} as end_date,
        {{ render_date('start_date_to_send') }} as start_date,
        {{ render_boolean('is_currently_attending') }} as currently_attending,
        {{ render_boolean('is_disabled_to_send') }} as disabled
    from rows_assembled
),

records_applied as (
    -- The record Handshake would hold after this row: a blank cell keeps
    -- Handshake's value, **CLEAR** wipes it.
    select
        *,
        coalesce(email_address, handshake_email_address) as applied_email_address,
        coalesce(school_year_name, handshake_school_year_name) as applied_school_year_name,
        coalesce(start_date_to_send, handshake_start_date) as applied_start_date,
        case
            when end_date = '**CLEAR**' then null
            when end_date is not null then end_date_to_send
            else handshake_end_date
        end as applied_end_date,
        coalesce(is_currently_attending, handshake_is_currently_attending) as applied_is_currently_attending,
        coalesce(is_disabled_to_send, handshake_is_disabled, false) as applied_is_disabled
    from rows_rendered
),

records_compared as (
    select
        *,
        not is_in_handshake
        or {{ is_distinct('applied_email_address', 'handshake_email_address') }}
        or {{ is_distinct('lower(applied_school_year_name)', 'lower(handshake_school_year_name)') }}
        or {{ is_distinct('applied_start_date', 'handshake_start_date') }}
        or {{ is_distinct('applied_end_date', 'handshake_end_date') }}
        or {{ is_distinct('applied_is_currently_attending', 'handshake_is_currently_attending') }}
        or applied_is_disabled != coalesce(handshake_is_disabled, false) as is_record_changed,
        applied_is_disabled and not coalesce(handshake_is_disabled, false) as is_newly_disabled,
        is_in_handshake
        and coalesce(email_address != handshake_email_address, false) as is_email_changed
    from records_applied
),

final as (
    select
        *,
        -- Which students go in the sync file: every current student, recent
        -- graduates, and older alumni whom Handshake holds with a record
        -- that is not yet right (a missed transition, an email to switch, or
        -- a newly disabled account). Older alumni absent from Handshake are
        -- not created.
        student_status = 'current'
        or is_recent_graduate
        or (is_in_handshake and is_record_changed) as is_in_sync_scope
    from records_compared
)

select * from final
