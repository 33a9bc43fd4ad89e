with

issues as (
    select * from {{ ref('int_student_issues_collected') }}
),

final as (
    select
        severity,
        code,
        student_id,
        username,
        detail,
        code_order
    from issues
)

select * from final
