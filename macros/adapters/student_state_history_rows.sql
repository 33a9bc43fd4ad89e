{#
    The rows of the student history (the snapshot student_state_history) as
    a select, for the models that compare with an earlier run. On Spark the
    snapshot is not built (dbt's snapshots need Delta tables there): the
    select then returns no row, with the history's columns, so that those
    models find no earlier state to compare with.
#}
{% macro student_state_history_rows() -%}
    {%- if target.type == 'spark' -%}
        select * from {{ ref('int_student_states_decided') }} where 1 = 0
    {%- else -%}
        select * from {{ ref('student_state_history') }}
    {%- endif -%}
{%- endmacro %}
