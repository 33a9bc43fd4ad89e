-- The floor: the student sync file written by one hand-written DuckDB script.
--
-- No dbt, no tests, no reports: read the five input CSV files once, apply the
-- rules of SPEC section 4 and 5 that decide which rows go into the sync file
-- and what they hold, and write <sync_file> ordered by username. It answers
-- "how fast could this be at all on this machine?"; benchmarks/run.py compares
-- the project's end-to-end run with it and checks that both write the same rows.
--
-- Default settings only (grace 30 days, lookback 180 days, no disable policy).
-- Variables (set by benchmarks/run_floor.py before the script runs):
--   raw_data_dir  folder with the five input files
--   as_of_date    the run date, YYYY-MM-DD
--   sync_file     the CSV file to write (one file, not split)

-- ---------------------------------------------------------------------------
-- Rules as macros

-- trim() only where a value starts or ends with a space (as the project's clean_text).
create or replace temp macro clean_text(value) as
    nullif(case when value like ' %' or value like '% ' then trim(value) else value end, '');

create or replace temp macro parse_date(value) as case
    when regexp_full_match(value, '(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}')
        then try_cast(value as date)
    when regexp_full_match(value, '[0-9]{2}/[0-9]{2}/(19|2[0-9])[0-9]{2}')
        then try_cast(substr(value, 7, 4) || '-' || substr(value, 1, 2) || '-' || substr(value, 4, 2) as date)
end;

create or replace temp macro parse_boolean(value) as case
    when lower(clean_text(value)) in ('true', 't', 'yes', 'y', '1') then true
    when lower(clean_text(value)) in ('false', 'f', 'no', 'n', '0') then false
end;

create or replace temp macro is_valid_email(address) as
    coalesce(regexp_full_match(address, '[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)+'), false);

create or replace temp macro is_academic(domain) as coalesce(
    regexp_matches(domain, '(^|[.])edu$') or regexp_matches(domain, '(^|[.])(edu|ac)[.][a-z][a-z]$'),
    false
);

create or replace temp macro is_unsafe(value) as
    coalesce(substr(value, 1, 1) in ('=', '+', '-', '@', chr(9), chr(13)), false);

create or replace temp macro render_boolean(value) as case when value then 'TRUE' when not value then 'FALSE' end;

create or replace temp macro is_distinct(a, b) as coalesce(a != b, a is not null or b is not null);

set variable as_of = cast(getvariable('as_of_date') as date);

-- ---------------------------------------------------------------------------
-- Inputs, each read once

create temp table domains as
select distinct
    case
        when substr(lower(clean_text(domain)), 1, 1) = '@' then substr(lower(clean_text(domain)), 2)
        else lower(clean_text(domain))
    end as email_domain
from read_csv(getvariable('raw_data_dir') || '/institution_email_domains.csv', header = true, all_varchar = true);

create temp table class_levels as
select
    class_level_key,
    case lower(trim(school_year_name_text))
        when 'freshman' then 'Freshman'
        when 'sophomore' then 'Sophomore'
        when 'junior' then 'Junior'
        when 'senior' then 'Senior'
        when 'first year community / technical college' then 'First Year Community / Technical College'
        when 'second year community / technical college' then 'Second Year Community / Technical College'
        when 'certificate program' then 'Certificate Program'
        when 'masters' then 'Masters'
        when 'masters of business administration' then 'Masters of Business Administration'
        when 'accelerated masters' then 'Accelerated Masters'
        when 'doctorate' then 'Doctorate'
        when 'postdoctoral studies' then 'Postdoctoral Studies'
        when 'alumni' then 'Alumni'
    end as school_year_name
from (
    select
        lower(clean_text(class_level)) as class_level_key,
        min(clean_text(school_year_name)) as school_year_name_text
    from read_csv(getvariable('raw_data_dir') || '/sis_class_levels.csv', header = true, all_varchar = true)
    where lower(clean_text(class_level)) is not null
    group by 1
);

create temp table programs as
select
    clean_text(student_id) as student_id,
    clean_text(username) as username,
    clean_text(auth_identifier) as auth_identifier,
    clean_text(first_name) as first_name,
    clean_text(last_name) as last_name,
    lower(clean_text(campus_email)) as campus_email,
    lower(clean_text(personal_email)) as personal_email,
    clean_text(class_level) as class_level,
    case lower(clean_text(education_level))
        when 'associates' then 'Associates'
        when 'certificate' then 'Certificate'
        when 'advanced certificate' then 'Advanced Certificate'
        when 'bachelors' then 'Bachelors'
        when 'masters' then 'Masters'
        when 'doctorate' then 'Doctorate'
        when 'postdoctoral studies' then 'Postdoctoral Studies'
        when 'non-degree seeking' then 'Non-Degree Seeking'
        when 'technical diploma' then 'Technical Diploma'
    end as education_level_name,
    case
        when regexp_matches(clean_text(cumulative_gpa), '^0*([0-3]([.][0-9]*)?|4([.]0*)?|[.][0-9]+)$')
            then cast(cast(cast(clean_text(cumulative_gpa) as decimal(12, 6)) as decimal(3, 2)) as varchar)
    end as cumulative_gpa,
    parse_date(clean_text(program_start_date)) as program_start_date,
    clean_text(expected_graduation_date) is not null
    and parse_date(clean_text(expected_graduation_date)) is null as is_expected_invalid,
    parse_date(clean_text(expected_graduation_date)) as expected_graduation_date,
    clean_text(graduation_date) is not null as has_graduation_date,
    clean_text(graduation_date) is not null
    and parse_date(clean_text(graduation_date)) is null as is_graduation_invalid,
    parse_date(clean_text(graduation_date)) as graduation_date,
    lower(clean_text(enrollment_status)) as enrollment_status,
    clean_text(campus_email_expires_on) is not null
    and parse_date(clean_text(campus_email_expires_on)) is null as is_expires_invalid,
    parse_date(clean_text(campus_email_expires_on)) as campus_email_expires_on
from read_csv(getvariable('raw_data_dir') || '/sis_students.csv', header = true, all_varchar = true)
where clean_text(student_id) is not null;

create temp table majors as
select
    student_id,
    -- Primary first, then byte order: a sorted list ('0' marks the primary).
    array_to_string(
        list_transform(
            list_sort(list(case when is_primary then '0' else '1' end || major_name)), entry -> entry[2:]
        ),
        ';'
    ) as major_names,
    min(major_name) filter (where is_primary) as primary_major_name,
    bool_or(is_unsafe(major_name)) as has_unsafe_major_name
from (
    select
        clean_text(student_id) as student_id,
        clean_text(major_name) as major_name,
        bool_or(coalesce(parse_boolean(is_primary), false)) as is_primary
    from read_csv(getvariable('raw_data_dir') || '/sis_student_majors.csv', header = true, all_varchar = true)
    where clean_text(student_id) is not null and clean_text(major_name) is not null
    group by 1, 2
)
group by student_id;

create temp table handshake as
select
    username,
    email_address,
    school_year_name,
    parse_date(start_date_text) as start_date,
    parse_date(end_date_text) as end_date,
    is_currently_attending,
    is_disabled
from (
    select
        clean_text(username) as username,
        lower(clean_text(email_address)) as email_address,
        clean_text(school_year_name) as school_year_name,
        clean_text("primary_education:start_date") as start_date_text,
        clean_text("primary_education:end_date") as end_date_text,
        parse_boolean("primary_education:currently_attending") as is_currently_attending,
        parse_boolean(disabled) as is_disabled
    from read_csv(getvariable('raw_data_dir') || '/handshake_users.csv', header = true, all_varchar = true)
    where clean_text(username) is not null
)
qualify row_number() over (
    partition by username order by email_address, start_date_text, end_date_text, school_year_name
) = 1;

-- ---------------------------------------------------------------------------
-- Decide and write

copy (
    with

    -- Step 1: identity and primary programme, over all of a student's rows.
    identity as (
        select
            student_id,
            count(*) filter (where program_start_date is null) as invalid_starts,
            max(program_start_date) as primary_start
        from programs
        group by student_id
    ),

    username_sharers as (
        select distinct unnest(student_ids) as student_id
        from (
            select list(distinct student_id) as student_ids
            from programs
            where username is not null
            group by username
            having count(distinct student_id) > 1
        )
    ),

    primary_candidates as (
        select programs.student_id
        from programs
        inner join identity
            on programs.student_id = identity.student_id
            and programs.program_start_date = identity.primary_start
        where identity.invalid_starts = 0
        group by programs.student_id
        having count(*) = 1
    ),

    primary_rows as (
        select programs.*
        from programs
        inner join identity
            on programs.student_id = identity.student_id
            and programs.program_start_date = identity.primary_start
        where programs.student_id in (select student_id from primary_candidates)
    ),

    -- Step 2: status from the primary programme.
    classified as (
        select
            primary_rows.*,
            case
                when enrollment_status in ('enrolled', 'on_leave') then 'current'
                when enrollment_status = 'graduated' and graduation_date <= getvariable('as_of') then 'alumni'
                when enrollment_status = 'graduated' and graduation_date > getvariable('as_of') then 'current'
            end as student_status,
            case when enrollment_status = 'graduated' then graduation_date else expected_graduation_date end
                as program_end_date
        from primary_rows
        where
            username is not null
            and student_id not in (select student_id from username_sharers)
            and enrollment_status in ('enrolled', 'on_leave', 'graduated')
            and not is_expected_invalid
            and not is_graduation_invalid
            and not is_expires_invalid
            and not (enrollment_status = 'graduated' and not has_graduation_date)
    ),

    addresses as (
        select
            email_address,
            is_valid_email(email_address) as is_valid,
            split_part(email_address, '@', 2) as email_domain
        from (
            select campus_email as email_address from programs
            union
            select personal_email from programs
            union
            select email_address from handshake
        )
        where email_address is not null
    ),

    addresses_classified as (
        select
            addresses.email_address,
            addresses.is_valid,
            addresses.is_valid and exists (
                select 1 from domains
                where addresses.email_domain = domains.email_domain
                    or suffix(addresses.email_domain, '.' || domains.email_domain)
            ) as is_own
        from addresses
    ),

    addresses_final as (
        select
            email_address,
            is_valid,
            is_own,
            is_valid and is_academic(split_part(email_address, '@', 2)) and not is_own as is_other_institution
        from addresses_classified
    ),

    sis_holders as (
        select distinct
            student_id,
            email_address
        from (
            select student_id, campus_email as email_address from programs
            union all
            select student_id, personal_email from programs
        )
        where email_address is not null
    ),

    -- Alumni email, steps 1-4; current students send the campus address.
    with_handshake as (
        select
            classified.*,
            handshake.username is not null as is_in_handshake,
            handshake.email_address as handshake_email_address,
            handshake.school_year_name as handshake_school_year_name,
            coalesce(lower(handshake.school_year_name) = 'alumni', false) as is_alumni_in_handshake,
            handshake.start_date as handshake_start_date,
            handshake.end_date as handshake_end_date,
            handshake.is_currently_attending as handshake_is_currently_attending,
            handshake.is_disabled as handshake_is_disabled,
            coalesce(held.is_valid and not held.is_own and not held.is_other_institution, false)
                as is_handshake_email_personal,
            coalesce(personal.is_valid, false) as is_personal_valid,
            coalesce(personal.is_other_institution, false) as is_personal_other_institution,
            coalesce(
                classified.personal_email is not null and (
                    exists (
                        select 1 from sis_holders
                        where sis_holders.email_address = classified.personal_email
                            and sis_holders.student_id != classified.student_id
                    )
                    or exists (
                        select 1 from handshake as other_accounts
                        where other_accounts.email_address = classified.personal_email
                            and other_accounts.username != classified.username
                    )
                ),
                false
            ) as is_personal_in_use
        from classified
        left join handshake
            on classified.username = handshake.username
        left join addresses_final as held
            on handshake.email_address = held.email_address
        left join addresses_final as personal
            on classified.personal_email = personal.email_address
        where classified.student_status is not null
    ),

    rows_assembled as (
        select
            with_handshake.*,
            case
                when student_status = 'current' then coalesce(campus_email, personal_email)
                when is_handshake_email_personal then handshake_email_address
                when
                    campus_email is not null
                    and not coalesce(campus_email_expires_on <= getvariable('as_of') + 30, false)
                    then campus_email
                when
                    personal_email is not null and is_personal_valid
                    and not is_personal_other_institution and not is_personal_in_use
                    then personal_email
                else coalesce(handshake_email_address, campus_email)
            end as email_to_send,
            case when student_status = 'alumni' then 'Alumni' else class_levels.school_year_name end
                as school_year_name,
            case
                when student_status = 'alumni' then program_end_date
                when program_end_date >= getvariable('as_of') then program_end_date
            end as end_date_to_send,
            student_status = 'current' as is_currently_attending,
            case when student_status = 'current' and handshake_is_disabled then false end as is_disabled_to_send,
            majors.major_names,
            majors.primary_major_name,
            coalesce(majors.has_unsafe_major_name, false) as has_unsafe_major_name
        from with_handshake
        left join class_levels
            on lower(with_handshake.class_level) = class_levels.class_level_key
        left join majors
            on with_handshake.student_id = majors.student_id
    ),

    -- The CLEAR rule, then the record Handshake would hold after the row.
    rows_rendered as (
        select
            *,
            case
                when end_date_to_send is not null then cast(end_date_to_send as varchar)
                when handshake_end_date is null then null
                when handshake_start_date is null or handshake_start_date != program_start_date then '**CLEAR**'
                when handshake_end_date < program_start_date then '**CLEAR**'
                when is_currently_attending and handshake_end_date < getvariable('as_of') then '**CLEAR**'
            end as end_date
        from rows_assembled
    ),

    rows_scoped as (
        select
            *,
            student_status = 'current'
            or (student_status = 'alumni' and graduation_date >= getvariable('as_of') - 180)
            or (
                is_in_handshake and (
                    is_distinct(coalesce(email_to_send, handshake_email_address), handshake_email_address)
                    or is_distinct(
                        lower(coalesce(school_year_name, handshake_school_year_name)),
                        lower(handshake_school_year_name)
                    )
                    or is_distinct(program_start_date, handshake_start_date)
                    or is_distinct(
                        case
                            when end_date = '**CLEAR**' then null
                            when end_date is not null then end_date_to_send
                            else handshake_end_date
                        end,
                        handshake_end_date
                    )
                    or is_distinct(is_currently_attending, handshake_is_currently_attending)
                    or coalesce(is_disabled_to_send, handshake_is_disabled, false)
                    != coalesce(handshake_is_disabled, false)
                )
            ) as is_in_scope
        from rows_rendered
    ),

    in_scope as (
        select * from rows_scoped where is_in_scope
    ),

    -- Step 4: every remaining check, on the rows in the sync file's scope.
    shared_emails as (
        select email_to_send
        from in_scope
        where email_to_send is not null
        group by email_to_send
        having count(*) > 1
    ),

    exported as (
        select in_scope.*
        from in_scope
        left join addresses_final as sent
            on in_scope.email_to_send = sent.email_address
        where
            not (first_name is null and not is_in_handshake)
            and not coalesce(length(first_name) > 50 or regexp_matches(first_name, '[0-9]'), false)
            and not coalesce(length(last_name) > 50 or regexp_matches(last_name, '[0-9]'), false)
            and education_level_name is not null
            and not coalesce(program_end_date < program_start_date, false)
            and not (student_status = 'current' and school_year_name is null)
            and coalesce(sent.is_valid, false)
            and not coalesce(sent.is_other_institution, false)
            and email_to_send not in (select email_to_send from shared_emails)
            and not exists (
                select 1 from handshake as other_accounts
                where other_accounts.email_address = in_scope.email_to_send
                    and other_accounts.username != in_scope.username
            )
            and not (
                is_unsafe(username) or is_unsafe(email_to_send) or is_unsafe(auth_identifier)
                or is_unsafe(first_name) or is_unsafe(last_name) or has_unsafe_major_name
            )
    )

    select
        username,
        email_to_send as email_address,
        auth_identifier,
        first_name,
        last_name,
        school_year_name,
        education_level_name as "primary_education:education_level_name",
        cumulative_gpa as "primary_education:cumulative_gpa",
        major_names as "primary_education:major_names",
        primary_major_name as "primary_education:primary_major_name",
        cast(program_start_date as varchar) as "primary_education:start_date",
        end_date as "primary_education:end_date",
        render_boolean(is_currently_attending) as "primary_education:currently_attending",
        render_boolean(is_disabled_to_send) as disabled
    from exported
    order by username
) to (getvariable('sync_file')) (header true);
