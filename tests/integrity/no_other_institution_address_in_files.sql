-- What: no address of another institution (academic domain that is not the
--   school's own) and no malformed address is sent in either Handshake file.
-- When: every build; Handshake skips such rows and they would create
--   accounts in another school's name.
-- How: each sent address checked with the academic-domain macro against the
--   school's own domains (subdomains included).
with

sent as (
    select
        'sync_users' as file_name,
        username,
        email_address
    from {{ ref('sync_users') }}
    union all
    select
        'alumni_updates' as file_name,
        username,
        email_address
    from {{ ref('alumni_updates') }}
),

own_domains as (
    select * from {{ ref('stg_sis__institution_email_domains') }}
),

sent_with_domain as (
    select
        file_name,
        username,
        {{ is_valid_email('email_address') }} as is_valid_email,
        {{ email_domain('email_address') }} as email_domain
    from sent
),

own_matches as (
    select distinct
        sent_with_domain.file_name,
        sent_with_domain.username
    from sent_with_domain
    inner join own_domains
        on sent_with_domain.email_domain = own_domains.email_domain
            or {{ dbt.right('sent_with_domain.email_domain', dbt.length('own_domains.email_domain') ~ ' + 1') }}
            = '.' || own_domains.email_domain
)

select
    sent_with_domain.file_name,
    sent_with_domain.username
from sent_with_domain
left join own_matches
    on sent_with_domain.file_name = own_matches.file_name
        and sent_with_domain.username = own_matches.username
where not sent_with_domain.is_valid_email
    or ({{ is_academic_domain('sent_with_domain.email_domain') }} and own_matches.username is null)
