with

sync_rows as (
    select * from {{ ref('int_sync_rows_built') }}
),

outcomes as (
    select * from {{ ref('int_student_outcomes_decided') }}
    where is_in_alumni_update_file
),

final as (
    select
        {%- for column_name, header in handshake_file_columns() %}
            sync_rows.{{ column_name }},
        {%- endfor %}
        sync_rows.student_id
    from sync_rows
    inner join outcomes
        on sync_rows.student_id = outcomes.student_id
)

select * from final
