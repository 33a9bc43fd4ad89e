{%- set domains = input_relation('sis', 'institution_email_domains') -%}
{{ require_columns(domains, 'institution_email_domains.csv', ['domain']) }}

with

domains as (
    select * from {{ domains }}
),

cleaned as (
    -- "@example.edu" and "example.edu" mean the same domain.
    select distinct
        case
            when substr(lower({{ clean_text('domain') }}), 1, 1) = '@'
                then substr(lower({{ clean_text('domain') }}), 2)
            else lower({{ clean_text('domain') }})
        end as email_domain
    from domains
),

final as (
    select email_domain
    from cleaned
    where email_domain is not null and email_domain != ''
)

select * from final
