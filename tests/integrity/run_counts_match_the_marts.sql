-- What: the run's counts in sync_runs and sync_run_issue_counts are those of
--   the rows the marts hold: the sync file holds exactly the exported
--   students, the outcomes add up to the students, the preflight counts no
--   more changed, disabled or email-changing rows than there are, and the
--   issue counts add up to import_issues, one count per code raised.
-- When: every build; a failure means a count and its file disagree.
-- How: one row per broken equality, naming it.

with

runs as (
    select * from {{ ref('sync_runs') }}
),

issue_counts as (
    select
        count(*) as code_count,
        sum(issue_count) as issue_count
    from {{ ref('sync_run_issue_counts') }}
),

issues as (
    select
        count(distinct code) as code_count,
        count(*) as issue_count
    from {{ ref('import_issues') }}
),

checks as (
    select 'sync_row_count is not exported_count' as broken_rule
    from runs
    where runs.sync_row_count != runs.exported_count
    union all
    select 'outcome counts do not add up to student_count' as broken_rule
    from runs
    where runs.exported_count + runs.skipped_count + runs.rejected_count != runs.student_count
    union all
    select 'preflight counts exceed their totals' as broken_rule
    from runs
    where
        runs.changed_row_count > runs.sync_row_count
        or runs.newly_disabled_row_count > runs.changed_row_count
        or runs.email_change_count > runs.sync_row_count
    union all
    select 'sync_run_issue_counts does not add up to import_issues' as broken_rule
    from issue_counts
    cross join issues
    where
        coalesce(issue_counts.issue_count, 0) != issues.issue_count
        or issue_counts.code_count != issues.code_count
)

select * from checks
