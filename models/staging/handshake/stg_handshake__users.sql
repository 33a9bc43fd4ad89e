{%- set users = input_relation('handshake', 'handshake_users') -%}
{{ require_columns(users, 'handshake_users.csv', [
    'username', 'email_address', 'school_year_name',
    'primary_education:start_date', 'primary_education:end_date',
    'primary_education:currently_attending', 'disabled'
]) }}

with

users as (
    select * from {{ users }}
),

renamed as (
    -- Handshake's colon headers become snake_case here and stay so until the
    -- export writes the files.
    select
        {{ clean_text('username') }} as username,
        {{ normalize_email('email_address') }} as email_address,
        {{ clean_text('school_year_name') }} as school_year_name,
        {{ clean_text(adapter.quote('primary_education:start_date')) }} as start_date_text,
        {{ clean_text(adapter.quote('primary_education:end_date')) }} as end_date_text,
        {{ parse_boolean(adapter.quote('primary_education:currently_attending')) }} as is_currently_attending,
        {{ parse_boolean('disabled') }} as is_disabled
    from users
),

parsed as (
    select
        username,
        email_address,
        school_year_name,
        lower(school_year_name) = 'alumni' as is_alumni,
        {{ parse_date('start_date_text') }} as start_date,
        {{ parse_date('end_date_text') }} as end_date,
        is_currently_attending,
        is_disabled,
        row_number() over (
            partition by username
            order by email_address, start_date_text, end_date_text, school_year_name
        ) as username_row_number
    from renamed
    where username is not null
),

final as (
    -- A username listed twice keeps one record; the warn-level test on the
    -- source reports the duplicate.
    select
        username,
        email_address,
        school_year_name,
        coalesce(is_alumni, false) as is_alumni,
        start_date,
        end_date,
        is_currently_attending,
        is_disabled
    from parsed
    where username_row_number = 1
)

select * from final
