{#
    on-run-start hook: create the export log beside the build log if it is
    missing. The export (scripts/export_csv.py) appends a row 'exported' for
    the build it wrote files from, and the delivery (scripts/deliver.py) a
    row 'delivered' for the build whose sync file it put into Handshake's
    folder (never for --trial), each with the sha256 of the folder's
    manifest.json (deliver.py's freshness check compares it). dbt reads it as the source runs.export_log to
    learn which run of an earlier night Handshake was sent
    (int_unapplied_changes_detected). Returns the SQL to run ('' for
    commands that are not logged).
#}
{% macro create_export_log() -%}
    {%- set build_log = build_log_relation() -%}
    {%- if build_log is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set export_log = build_log.incorporate(path={'identifier': 'export_log'}) -%}
    create table if not exists {{ export_log }} (
        build_number {{ dbt.type_int() }},
        as_of_date date,
        event {{ dbt.type_string() }},
        recorded_at {{ dbt.type_timestamp() }},
        manifest_sha256 {{ dbt.type_string() }}
    )
{%- endmacro %}
