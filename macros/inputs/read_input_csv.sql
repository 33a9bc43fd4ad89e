{#
    A table expression reading one input CSV file in place, every column as
    text (parsing happens in staging). UTF-8, header row, comma-separated,
    double-quoted fields; a UTF-8 byte-order mark and CRLF line ends are
    accepted; a ragged row stops the run with DuckDB's message naming the file
    and the line. DuckDB only (the warehouses load their raw tables
    themselves).
#}
{% macro read_input_csv(path) -%}
    {{ return(adapter.dispatch('read_input_csv', 'handshake_alumni')(path)) }}
{%- endmacro %}

{% macro default__read_input_csv(path) -%}
    {{ exceptions.raise_compiler_error(
        "The var raw_data_dir reads CSV files in place and works on DuckDB only; on "
        ~ target.type ~ " load the files into tables and set sis_schema / handshake_schema."
    ) }}
{%- endmacro %}

{% macro duckdb__read_input_csv(path) -%}
    read_csv(
        '{{ path | replace("'", "''") }}',
        header = true,
        all_varchar = true,
        delim = ',',
        quote = '"',
        escape = '"',
        strict_mode = true,
        null_padding = false,
        encoding = 'utf-8'
    )
{%- endmacro %}
