with

issues as (
    select * from {{ ref('int_student_issues_collected') }}
),

-- The cells of import_issues.csv as written (escape_formula); the export
-- writes them verbatim.
final as (
    select
        issue_id,
        {{ escape_formula('severity') }} as severity,
        {{ escape_formula('code') }} as code,
        {{ escape_formula('student_id') }} as student_id,
        {{ escape_formula('username') }} as username,
        {{ escape_formula('detail') }} as detail,
        code_order
    from issues
)

select * from final
