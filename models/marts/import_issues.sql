with

issues as (
    select * from {{ ref('int_student_issues_collected') }}
),

unapplied_changes as (
    -- Compared with an earlier night's run, so raised after the outcomes
    -- (a warning never changes one).
    select * from {{ ref('int_unapplied_changes_detected') }}
),

issue_codes as (
    select * from {{ ref('issue_codes') }}
),

unapplied_changes_coded as (
    select
        {{ composite_key(['unapplied_changes.student_id', 'unapplied_changes.code']) }} as issue_id,
        issue_codes.severity,
        unapplied_changes.code,
        unapplied_changes.student_id,
        unapplied_changes.username,
        unapplied_changes.detail,
        issue_codes.sort_order as code_order
    from unapplied_changes
    left join issue_codes
        on unapplied_changes.code = issue_codes.code
),

issues_unioned as (
    select
        issue_id,
        severity,
        code,
        student_id,
        username,
        detail,
        code_order
    from issues
    union all
    select
        issue_id,
        severity,
        code,
        student_id,
        username,
        detail,
        code_order
    from unapplied_changes_coded
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
    from issues_unioned
)

select * from final
