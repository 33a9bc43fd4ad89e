{#
    The columns of Handshake's student import file, in file order, as
    (internal snake_case name, Handshake header) pairs. Models use the
    internal names; only the export writes the headers, which it reads from
    the `meta: {handshake_header: ...}` of the columns of sync_users and
    alumni_updates in target/manifest.json (yml order = file order). Where
    dbt gives the graph (not in unit tests), the yml meta of both marts must
    equal this list: a difference stops the run, so the two never drift.
#}
{% macro handshake_file_columns() -%}
    {%- set columns = [
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
    ] -%}
    {%- if execute and graph.get('nodes') -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.name in ('sync_users', 'alumni_updates') -%}
            {%- set pairs = [] -%}
            {%- for name, column in node.columns.items() -%}
                {%- set header = (column.meta or {}).get('handshake_header')
                    or ((column.config or {}).get('meta') or {}).get('handshake_header') -%}
                {%- if header -%}
                    {%- do pairs.append((name, header)) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if pairs != columns -%}
                {{ exceptions.raise_compiler_error(
                    "The handshake_header meta of the columns of " ~ node.name
                    ~ " (its yml) must list macros/rendering/handshake_file_columns.sql, in that order."
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}
