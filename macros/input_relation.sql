{#
    The relation a staging model reads for one input file. By default the
    shipped seeds (ref); when the var `<source>_schema` is set (sis_schema,
    handshake_schema) the school's own raw table declared as a source.
    Only staging models call this.
#}
{% macro input_relation(source_name, table_name) -%}
    {%- if var(source_name ~ '_schema', none) is not none -%}
        {{ return(source(source_name, table_name)) }}
    {%- else -%}
        {{ return(ref(table_name)) }}
    {%- endif -%}
{%- endmacro %}
