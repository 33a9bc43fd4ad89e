{#
    One outcome per student (exported, skipped or rejected) with its reason,
    and which files the student's row goes to.
#}
with

students as (
    select * from {{ ref('int_students_classified') }}
),

sync_rows as (
    select * from {{ ref('int_sync_rows_built') }}
),

issues as (
    select * from {{ ref('int_student_issues_collected') }}
),

errors_listed as (
    -- Several error codes are joined with ';' in the order of SPEC's table.
    select
        student_id,
        {{ dbt.listagg('code', "';'", 'order by code_order') }} as error_codes
    from issues
    where severity = 'error'
    group by student_id
),

decided as (
    select
        students.student_id,
        students.username,
        sync_rows.student_id is not null and sync_rows.is_in_sync_scope as is_in_sync_scope,
        coalesce(sync_rows.is_record_changed, false) as is_record_changed,
        case
            when errors_listed.student_id is not null then 'rejected'
            when students.is_withdrawn then 'skipped'
            when sync_rows.is_in_sync_scope then 'exported'
            else 'skipped'
        end as outcome,
        case
            when errors_listed.student_id is not null then errors_listed.error_codes
            when students.is_withdrawn then 'withdrawn'
            when sync_rows.is_in_sync_scope and sync_rows.is_returning_student then 'returning_student'
            when sync_rows.is_in_sync_scope and sync_rows.student_status = 'current' then 'current_student'
            when sync_rows.is_in_sync_scope and sync_rows.is_recent_graduate then 'recent_alumni'
            when sync_rows.is_in_sync_scope then 'alumni_record_outdated'
            when sync_rows.is_in_handshake then 'older_alumni_up_to_date'
            else 'older_alumni_not_in_handshake'
        end as reason,
        sync_rows.student_status,
        coalesce(sync_rows.is_returning_student, false) as is_returning_student
    from students
    left join sync_rows
        on students.student_id = sync_rows.student_id
    left join errors_listed
        on students.student_id = errors_listed.student_id
),

final as (
    select
        student_id,
        username,
        outcome,
        reason,
        outcome = 'exported' as is_in_sync_file,
        -- Alumni and returning students whose Handshake record the sync
        -- changes (a graduate Handshake does not hold yet counts as changed).
        outcome = 'exported'
        and (student_status = 'alumni' or is_returning_student)
        and is_record_changed as is_in_alumni_update_file
    from decided
)

select * from final
