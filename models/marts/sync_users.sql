with

sync_rows as (
    select * from {{ ref('int_sync_rows_built') }}
),

outcomes as (
    select * from {{ ref('int_student_outcomes_decided') }}
    where is_in_sync_file
),

final as (
    select
        {%- for column_name, header in handshake_file_columns() %}
            sync_rows.{{ column_name }},
        {%- endfor %}
        sync_rows.student_id,
        sync_rows.is_record_changed,
        sync_rows.is_newly_disabled,
        sync_rows.is_email_changed
    from sync_rows
    inner join outcomes
        on sync_rows.student_id = outcomes.student_id
)

select * from final
