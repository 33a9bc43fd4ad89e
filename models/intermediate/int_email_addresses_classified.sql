with

students as (
    select * from {{ ref('stg_sis__students') }}
),

handshake_users as (
    select * from {{ ref('stg_handshake__users') }}
),

institution_domains as (
    select * from {{ ref('stg_sis__institution_email_domains') }}
),

addresses_listed as (
    select campus_email as email_address from students
    union all
    select personal_email as email_address from students
    union all
    select email_address from handshake_users
),

addresses as (
    select distinct email_address
    from addresses_listed
    where email_address is not null
),

addresses_with_domain as (
    select
        email_address,
        {{ is_valid_email('email_address') }} as is_valid_email,
        {{ email_domain('email_address') }} as email_domain
    from addresses
),

own_domain_matches as (
    -- A listed domain covers itself and its subdomains (alumni.example.edu).
    select distinct addresses_with_domain.email_address
    from addresses_with_domain
    inner join institution_domains
        on
            addresses_with_domain.email_domain = institution_domains.email_domain
            or {{ dbt.right(
                'addresses_with_domain.email_domain',
                dbt.length('institution_domains.email_domain') ~ ' + 1'
            ) }} = '.' || institution_domains.email_domain
),

classified as (
    select
        addresses_with_domain.email_address,
        addresses_with_domain.email_domain,
        addresses_with_domain.is_valid_email,
        own_domain_matches.email_address is not null as is_own_domain,
        {{ is_academic_domain('addresses_with_domain.email_domain') }} as is_academic_domain
    from addresses_with_domain
    left join own_domain_matches
        on addresses_with_domain.email_address = own_domain_matches.email_address
),

final as (
    select
        email_address,
        email_domain,
        is_valid_email,
        is_own_domain,
        is_academic_domain,
        is_academic_domain and not is_own_domain as is_other_institution
    from classified
)

select * from final
