{#
    The columns of Handshake's student import file, in file order, as
    (internal snake_case name, Handshake header) pairs. Models use the
    internal names; only the export writes the headers.
#}
{% macro handshake_file_columns() -%}
    {{ return([
        ('username', 'username'),
        ('email_address', 'email_address'),
        ('auth_identifier', 'auth_identifier'),
        ('first_name', 'first_name'),
        ('last_name', 'last_name'),
        ('school_year_name', 'school_year_name'),
        ('education_level_name', 'primary_education:education_level_name'),
        ('cumulative_gpa', 'primary_education:cumulative_gpa'),
        ('major_names', 'primary_education:major_names'),
        ('primary_major_name', 'primary_education:primary_major_name'),
        ('start_date', 'primary_education:start_date'),
        ('end_date', 'primary_education:end_date'),
        ('currently_attending', 'primary_education:currently_attending'),
        ('disabled', 'disabled')
    ]) }}
{%- endmacro %}
