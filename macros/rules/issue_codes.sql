{#
    The error and warning codes of SPEC section 5, in the order of its table.
    That order sorts import_issues and joins several codes in a reason.
#}
{% macro issue_codes() -%}
    {{ return([
        ('missing_username', 'error'),
        ('duplicate_username', 'error'),
        ('missing_first_name', 'error'),
        ('invalid_name', 'error'),
        ('invalid_date', 'error'),
        ('unknown_enrollment_status', 'error'),
        ('unknown_education_level', 'error'),
        ('end_before_start', 'error'),
        ('missing_graduation_date', 'error'),
        ('ambiguous_primary_program', 'error'),
        ('unknown_class_level', 'error'),
        ('invalid_email', 'error'),
        ('other_institution_email', 'error'),
        ('duplicate_email', 'error'),
        ('email_in_use', 'error'),
        ('unsafe_value', 'error'),
        ('personal_email_unusable', 'warning'),
        ('invalid_gpa', 'warning'),
        ('expected_graduation_past', 'warning')
    ]) }}
{%- endmacro %}
