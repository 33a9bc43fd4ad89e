{#
    on-run-end hook (before record_build_end): records what this build read,
    one row per input in build_inputs (beside build_log): the input's file
    name, where it was read from, and what the engine can tell cheaply, so
    that the export can refuse a build whose inputs changed since.
    - a seed: path = the seed file; on DuckDB size_bytes and sha256 of the
      file's bytes (read_blob; checksum_method 'sha256'); on the other
      engines dbt's own parse-time checksum of the seed (sha256 of the file's
      UTF-8 text with surrounding whitespace stripped; checksum_method
      'dbt_seed_checksum'; none for a seed over 1 MiB, which dbt does not
      hash); row_count = rows of the loaded seed table;
    - var raw_data_dir (DuckDB): path = <raw_data_dir>/<name>.csv, size_bytes
      and sha256 of the file's bytes (no row count: that would read the file
      again);
    - var <source>_schema: path = the source relation, row_count = its rows.
    Called after the models ran, so it records only; it runs for the same
    commands as the build log. Returns the SQL to run.
#}
{% macro record_build_inputs() -%}
    {%- set build_log = build_log_relation() -%}
    {%- if build_log is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set build_inputs = build_log.incorporate(path={'identifier': 'build_inputs'}) -%}
    {{ return(adapter.dispatch('record_build_inputs', 'handshake_alumni')(build_log, build_inputs, build_input_rows())) }}
{%- endmacro %}

{#
    The inputs of this build as dicts: input_name, path, relation (or none),
    is_file (read by the engine: DuckDB computes size and sha256), seed
    checksum (or none).
#}
{% macro build_input_rows() -%}
    {%- set sources = {} -%}
    {%- for node in graph.sources.values() if node.package_name == project_name -%}
        {%- do sources.update({node.name: node}) -%}
    {%- endfor -%}
    {%- set rows = [] -%}
    {%- set seeds = graph.nodes.values() | selectattr('resource_type', 'equalto', 'seed')
        | selectattr('package_name', 'equalto', project_name)
        | rejectattr('name', 'equalto', 'dbt_project_evaluator_exceptions') | sort(attribute='name') -%}
    {%- for seed in seeds -%}
        {%- set source_node = sources.get(seed.name) -%}
        {%- set file_name = seed.name ~ '.csv' -%}
        {%- if source_node is not none and var('raw_data_dir', none) -%}
            {%- do rows.append({'input_name': file_name, 'path': var('raw_data_dir') ~ '/' ~ file_name,
                'relation': none, 'is_file': true, 'checksum': none}) -%}
        {%- elif source_node is not none and var(source_node.source_name ~ '_schema', none) is not none -%}
            {%- set relation = api.Relation.create(database=source_node.database,
                schema=source_node.schema, identifier=source_node.identifier) -%}
            {%- do rows.append({'input_name': file_name, 'path': relation | string,
                'relation': relation, 'is_file': false, 'checksum': none}) -%}
        {%- else -%}
            {%- set relation = api.Relation.create(database=seed.database,
                schema=seed.schema, identifier=seed.alias) -%}
            {%- set checksum = seed.checksum.checksum if seed.checksum.name == 'sha256' else none -%}
            {%- do rows.append({'input_name': file_name,
                'path': seed.root_path ~ '/' ~ seed.original_file_path,
                'relation': relation, 'is_file': true, 'checksum': checksum}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

{% macro build_inputs_create(build_inputs) -%}
    create table if not exists {{ build_inputs }} (
        build_number {{ dbt.type_int() }},
        input_name {{ dbt.type_string() }},
        path {{ dbt.type_string() }},
        size_bytes {{ dbt.type_bigint() }},
        sha256 {{ dbt.type_string() }},
        checksum_method {{ dbt.type_string() }},
        row_count {{ dbt.type_bigint() }}
    )
{%- endmacro %}

{#- count(*) of an input relation that exists, else null. -#}
{% macro build_input_row_count(relation) -%}
    {%- if relation is not none and adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier) is not none -%}
        (select count(*) from {{ relation }})
    {%- else -%}
        cast(null as {{ dbt.type_bigint() }})
    {%- endif -%}
{%- endmacro %}

{% macro default__record_build_inputs(build_log, build_inputs, rows) -%}
    {%- set selects = [] -%}
    {%- for row in rows -%}
        {%- do selects.append(
            "select " ~ build_number_sql(build_log) ~ ", "
            ~ build_input_text(row.input_name) ~ ", " ~ build_input_text(row.path) ~ ", "
            ~ "cast(null as " ~ dbt.type_bigint() ~ "), "
            ~ (build_input_text(row.checksum) if row.checksum else "cast(null as " ~ dbt.type_string() ~ ")") ~ ", "
            ~ (build_input_text('dbt_seed_checksum') if row.checksum else "cast(null as " ~ dbt.type_string() ~ ")") ~ ", "
            ~ build_input_row_count(row.relation)
        ) -%}
    {%- endfor -%}
    {{ build_inputs_create(build_inputs) }};
    {%- if selects %}
    insert into {{ build_inputs }}
        (build_number, input_name, path, size_bytes, sha256, checksum_method, row_count)
    {{ selects | join('\n    union all\n    ') }};
    {%- endif %}
{%- endmacro %}

{#- DuckDB reads each file itself: size and sha256 of its bytes. -#}
{% macro duckdb__record_build_inputs(build_log, build_inputs, rows) -%}
    {%- set selects = [] -%}
    {%- for row in rows -%}
        {%- if row.is_file -%}
            {%- do selects.append(
                "select " ~ build_number_sql(build_log) ~ ", "
                ~ build_input_text(row.input_name) ~ ", " ~ build_input_text(row.path) ~ ", "
                ~ "size, sha256(content), 'sha256', " ~ build_input_row_count(row.relation)
                ~ " from read_blob(" ~ build_input_text(row.path) ~ ")"
            ) -%}
        {%- else -%}
            {%- do selects.append(
                "select " ~ build_number_sql(build_log) ~ ", "
                ~ build_input_text(row.input_name) ~ ", " ~ build_input_text(row.path) ~ ", "
                ~ "null, null, null, " ~ build_input_row_count(row.relation)
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ build_inputs_create(build_inputs) }};
    {%- if selects %}
    insert into {{ build_inputs }}
        (build_number, input_name, path, size_bytes, sha256, checksum_method, row_count)
    {{ selects | join('\n    union all\n    ') }};
    {%- endif %}
{%- endmacro %}

{#- Spark runs one statement per call: the create here, the insert returned. -#}
{% macro spark__record_build_inputs(build_log, build_inputs, rows) -%}
    {%- set statements = default__record_build_inputs(build_log, build_inputs, rows).split(';')
        | map('trim') | select | list -%}
    {%- for sql in statements[:-1] -%}
        {%- do run_query(sql) -%}
    {%- endfor -%}
    {{ return(statements[-1] if statements | length > 1 else '') }}
{%- endmacro %}

{% macro build_number_sql(build_log) -%}
    (select max(build_number) from {{ build_log }} where invocation_id = '{{ invocation_id }}')
{%- endmacro %}

{#- A text literal, quotes escaped as the engine wants (dbt.escape_single_quotes). -#}
{% macro build_input_text(value) -%}
    {{ return("'" ~ dbt.escape_single_quotes(value | string) ~ "'") }}
{%- endmacro %}
