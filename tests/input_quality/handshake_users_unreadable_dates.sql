-- What: Handshake records whose start or end date is not a date.
-- When: warns; such a date is treated as absent when comparing records.
-- How: raw date cells that do not parse.
{{ config(severity='warn') }}

with

users as (
    select
        {{ clean_text(adapter.quote('primary_education:start_date')) }} as start_date_text,
        {{ clean_text(adapter.quote('primary_education:end_date')) }} as end_date_text
    from {{ input_relation('handshake', 'handshake_users') }}
)

select *
from users
where
    (start_date_text is not null and {{ parse_date('start_date_text') }} is null)
    or (end_date_text is not null and {{ parse_date('end_date_text') }} is null)
