-- What: Handshake usernames listed more than once in handshake_users.
-- When: warns; one record is kept (staging), the rest ignored.
-- How: raw usernames grouped.
{{ config(severity='warn') }}

select
    {{ clean_text('username') }} as username,
    count(*) as row_count
from {{ input_relation('handshake', 'handshake_users') }}
group by {{ clean_text('username') }}
having count(*) > 1
