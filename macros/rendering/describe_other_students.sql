{#
    A select that turns `pairs` (a CTE or relation with student_id and
    other_student_id, one row per pair) into one row per student_id with
    `other_students`: at most three other student_ids in byte order, then
    "and N more" -- issue details stay short.
#}
{% macro describe_other_students(pairs) -%}
    select
        student_id,
        {{ dbt.listagg('other_student_id', "', '", 'order by other_rank') }}
        || case
            when max(other_count) > 3
                then ' and ' || cast(max(other_count) - 3 as {{ dbt.type_string() }}) || ' more'
            else ''
        end as other_students
    from (
        select
            student_id,
            other_student_id,
            row_number() over (
                partition by student_id order by {{ bytewise('other_student_id') }}
            ) as other_rank,
            count(*) over (partition by student_id) as other_count
        from (select distinct student_id, other_student_id from {{ pairs }}) as distinct_pairs
    ) as ranked_pairs
    where other_rank <= 3
    group by student_id
{%- endmacro %}
