{#
    The address each current student and alumnus is sent with: the
    alumni email rule (steps 1-4) and the current-student rule.
#}
with

students as (
    select * from {{ ref('int_students_classified') }}
    where student_status in ('current', 'alumni')
),

addresses as (
    select * from {{ ref('int_email_addresses_classified') }}
),

sis_programs as (
    select * from {{ ref('stg_sis__students') }}
),

handshake_users as (
    select * from {{ ref('stg_handshake__users') }}
),

sis_address_holders as (
    select distinct
        student_id,
        email_address
    from (
        select
            student_id,
            campus_email as email_address
        from sis_programs
        union all
        select
            student_id,
            personal_email as email_address
        from sis_programs
    ) as listed
    where email_address is not null
),

personal_email_holders as (
    -- Who else holds a student's personal address: another SIS student, or
    -- another Handshake account.
    select
        students.student_id,
        max(
            case
                when sis_address_holders.student_id is not null then 1
                else 0
            end
        ) = 1 as is_held_by_other_student
    from students
    left join sis_address_holders
        on
            students.personal_email = sis_address_holders.email_address
            and students.student_id != sis_address_holders.student_id
    where students.personal_email is not null
    group by students.student_id
),

personal_email_accounts as (
    select
        students.student_id,
        count(handshake_users.username) > 0 as is_held_by_other_account
    from students
    inner join handshake_users
        on
            students.personal_email = handshake_users.email_address
            and (students.username is null or students.username != handshake_users.username)
    group by students.student_id
),

students_with_addresses as (
    select
        students.student_id,
        students.student_status,
        students.campus_email,
        students.personal_email,
        students.handshake_email_address,
        students.campus_email_expires_on is not null
        and students.campus_email_expires_on
        <= {{ as_of_date(setting_days('campus_email_grace_days')) }} as is_campus_email_expiring,
        coalesce(handshake_address.is_valid_email, false)
        and not handshake_address.is_own_domain
        and not handshake_address.is_other_institution as is_handshake_email_personal,
        coalesce(personal_address.is_valid_email, false) as is_personal_email_valid,
        coalesce(personal_address.is_other_institution, false) as is_personal_email_other_institution,
        coalesce(personal_email_holders.is_held_by_other_student, false)
        or coalesce(personal_email_accounts.is_held_by_other_account, false) as is_personal_email_in_use
    from students
    left join addresses as handshake_address
        on students.handshake_email_address = handshake_address.email_address
    left join addresses as personal_address
        on students.personal_email = personal_address.email_address
    left join personal_email_holders
        on students.student_id = personal_email_holders.student_id
    left join personal_email_accounts
        on students.student_id = personal_email_accounts.student_id
),

alumni_email_steps as (
    select
        *,
        case
            when student_status != 'alumni' then null
            -- 1. Handshake already holds a personal address: keep it.
            when is_handshake_email_personal then 1
            -- 2. The campus mailbox stays open: keep the campus address.
            when campus_email is not null and not is_campus_email_expiring then 2
            -- 3. A usable personal address: switch to it.
            when
                personal_email is not null
                and is_personal_email_valid
                and not is_personal_email_other_institution
                and not is_personal_email_in_use
                then 3
            -- 4. Nothing better: keep the current address, and warn.
            else 4
        end as alumni_email_step
    from students_with_addresses
),

final as (
    select
        student_id,
        alumni_email_step,
        case
            when student_status = 'current' then coalesce(campus_email, personal_email)
            when alumni_email_step = 1 then handshake_email_address
            when alumni_email_step = 2 then campus_email
            when alumni_email_step = 3 then personal_email
            else coalesce(handshake_email_address, campus_email)
        end as email_address,
        case
            when alumni_email_step = 4
                then
                    case
                        when personal_email is null then 'missing'
                        when not is_personal_email_valid then 'invalid'
                        when is_personal_email_other_institution then 'other institution'
                        else 'in use'
                    end
        end as personal_email_unusable_reason
    from alumni_email_steps
)

select * from final
