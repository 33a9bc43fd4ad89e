{#
    Step 1 of the decision order: who the student is and which programme
    is primary (the row with the latest program_start_date).
#}
with

programs as (
    select * from {{ ref('stg_sis__students') }}
),

program_starts as (
    select
        student_id,
        count(*) as program_count,
        max(program_start_date) as primary_program_start_date,
        sum(case when program_start_date is null then 1 else 0 end) as invalid_program_start_count
    from programs
    group by student_id
),

programs_ranked as (
    select
        programs.*,
        program_starts.program_count,
        program_starts.invalid_program_start_count,
        sum(case when programs.program_start_date = program_starts.primary_program_start_date then 1 else 0 end)
            over (partition by programs.student_id) as primary_candidate_count,
        row_number() over (
            partition by programs.student_id
            order by
                case when programs.program_start_date = program_starts.primary_program_start_date then 0 else 1 end,
                {{ bytewise('programs.student_program_id') }}
        ) as primary_rank
    from programs
    inner join program_starts
        on programs.student_id = program_starts.student_id
),

username_holders as (
    select distinct
        student_id,
        username
    from programs
    where username is not null
),

username_sharing_pairs as (
    select
        holders.student_id,
        other_holders.student_id as other_student_id
    from username_holders as holders
    inner join username_holders as other_holders
        on
            holders.username = other_holders.username
            and holders.student_id != other_holders.student_id
),

username_sharers as (
    {{ describe_other_students('username_sharing_pairs') }}
),

identified as (
    select
        programs_ranked.student_id,
        programs_ranked.student_program_id,
        programs_ranked.program_count,
        programs_ranked.username,
        programs_ranked.auth_identifier,
        programs_ranked.first_name,
        programs_ranked.last_name,
        programs_ranked.campus_email,
        programs_ranked.personal_email,
        programs_ranked.class_level,
        programs_ranked.education_level_text,
        programs_ranked.education_level_name,
        programs_ranked.cumulative_gpa_text,
        programs_ranked.cumulative_gpa,
        programs_ranked.is_cumulative_gpa_invalid,
        programs_ranked.program_start_date,
        programs_ranked.expected_graduation_date_text,
        programs_ranked.expected_graduation_date,
        programs_ranked.graduation_date_text,
        programs_ranked.graduation_date,
        programs_ranked.enrollment_status,
        programs_ranked.campus_email_expires_on_text,
        programs_ranked.campus_email_expires_on,
        programs_ranked.is_sso_enabled,
        programs_ranked.username is null as is_missing_username,
        username_sharers.other_students as username_shared_with,
        programs_ranked.invalid_program_start_count > 0 as has_invalid_program_start,
        programs_ranked.invalid_program_start_count,
        programs_ranked.invalid_program_start_count = 0
        and programs_ranked.primary_candidate_count > 1 as is_primary_program_ambiguous,
        programs_ranked.primary_candidate_count
    from programs_ranked
    left join username_sharers
        on programs_ranked.student_id = username_sharers.student_id
    where programs_ranked.primary_rank = 1
),

final as (
    select
        *,
        is_missing_username
        or username_shared_with is not null
        or has_invalid_program_start
        or is_primary_program_ambiguous as has_identity_error
    from identified
)

select * from final
