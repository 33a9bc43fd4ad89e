with

issues as (
    select * from {{ ref('import_issues') }}
),

final as (
    select
        severity,
        code,
        code_order as sort_order,
        count(*) as issue_count
    from issues
    group by severity, code, code_order
)

select * from final
