{#
    True when a domain belongs to an academic institution: it ends in .edu, or
    its last two labels are edu.<cc> or ac.<cc> for a two-letter country code
    (unimelb.edu.au, ox.ac.uk). Whether it is the school's own is decided
    against institution_email_domains in int_email_addresses_classified.
#}
{% macro is_academic_domain(domain_expression) -%}
    coalesce(
        {{ matches_pattern(domain_expression, '(^|[.])edu$') }}
        or {{ matches_pattern(domain_expression, '(^|[.])(edu|ac)[.][a-z][a-z]$') }},
        false
    )
{%- endmacro %}
