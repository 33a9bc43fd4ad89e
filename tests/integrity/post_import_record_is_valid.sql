-- What: the record Handshake would hold after applying each sync row is one
--   Handshake accepts: end_date >= start_date, and never currently attending
--   with an end date before as_of_date.
-- When: every build; a failure means Handshake would reject a row.
-- How: apply each rendered row of the sync file to Handshake's current
--   record exactly as the importer does (blank keeps, **CLEAR** wipes),
--   independently of the model's own bookkeeping.
with

sync_rows as (
    select * from {{ ref('sync_users') }}
),

handshake_users as (
    select * from {{ ref('stg_handshake__users') }}
),

applied as (
    select
        sync_rows.username,
        case
            when sync_rows.start_date = '**CLEAR**' then null
            when sync_rows.start_date is not null then cast(sync_rows.start_date as date)
            else handshake_users.start_date
        end as start_date,
        case
            when sync_rows.end_date = '**CLEAR**' then null
            when sync_rows.end_date is not null then cast(sync_rows.end_date as date)
            else handshake_users.end_date
        end as end_date,
        case
            when sync_rows.currently_attending = 'TRUE' then true
            when sync_rows.currently_attending = 'FALSE' then false
            else handshake_users.is_currently_attending
        end as is_currently_attending
    from sync_rows
    left join handshake_users
        on sync_rows.username = handshake_users.username
)

select *
from applied
where end_date < start_date
    or (is_currently_attending and end_date < {{ as_of_date() }})
