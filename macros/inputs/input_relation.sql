{#
    The relation a staging model reads for one input file (`table_name` is
    also the file's name without .csv). Only staging models call this.
    - default: the shipped seed (ref);
    - var `raw_data_dir` set (DuckDB): the CSV file <raw_data_dir>/<table_name>.csv
      read in place, every column as text (for large inputs: no dbt seed);
      the source is still referenced so that lineage shows the input;
    - var `<source>_schema` set (sis_schema, handshake_schema): the school's own
      raw table, declared as a source.
    Unit tests always mock the seed (ref), whichever input the run reads.
#}
{% macro input_relation(source_name, table_name) -%}
    {%- if model.resource_type == 'unit_test' -%}
        {{ return(ref(table_name)) }}
    {%- elif var('raw_data_dir', none) -%}
        {%- set declared_source = source(source_name, table_name) -%}
        {{ return(read_input_csv(var('raw_data_dir') ~ '/' ~ table_name ~ '.csv')) }}
    {%- elif var(source_name ~ '_schema', none) is not none -%}
        {{ return(source(source_name, table_name)) }}
    {%- else -%}
        {{ return(ref(table_name)) }}
    {%- endif -%}
{%- endmacro %}
