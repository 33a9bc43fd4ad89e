with

issues as (
    select * from {{ ref('int_student_issues_collected') }}
),

unapplied_changes as (
    -- Compared with an earlier night's run, so raised after the outcomes
    -- (a warning never changes one).
    select * from {{ ref('int_unapplied_changes_detected') }}
),

issues_unioned as (
    select
        severity,
        code,
        student_id,
        username,
        detail,
        code_order
    from issues
    union all
    select
        case code
            {%- for code, severity in issue_codes() %}
                when '{{ code }}' then '{{ severity }}'
            {%- endfor %}
        end as severity,
        code,
        student_id,
        username,
        detail,
        case code
            {%- for code, severity in issue_codes() %}
                when '{{ code }}' then {{ loop.index }}
            {%- endfor %}
        end as code_order
    from unapplied_changes
),

final as (
    select
        severity,
        code,
        student_id,
        username,
        detail,
        code_order
    from issues_unioned
)

select * from final
