{#
    dbt.listagg on Spark with its order honoured: dbt-spark's own listagg
    ignores order_by_clause (collect_list keeps no order). This one sorts
    structs of the order keys and the value, then joins the values, so that
    lists come out in the same order as on DuckDB and PostgreSQL. The order
    keys must be plain ascending expressions (the project orders by ranks).
#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set order_keys = modules.re.sub('(?i)^\\s*order\\s+by\\s+', '', order_by_clause).split(',') | map('trim') | list -%}
        {%- for key in order_keys -%}
            {%- if modules.re.search('(?i)\\s(asc|desc|nulls)(\\s|$)', key ~ ' ') -%}
                {{ exceptions.raise_compiler_error("spark__listagg sorts ascending by plain expressions only, got '" ~ order_by_clause ~ "'.") }}
            {%- endif -%}
        {%- endfor -%}
        {%- set collected -%}
            transform(
                array_sort(collect_list(struct(
                    {%- for key in order_keys %}{{ key }} as order_key_{{ loop.index }}, {% endfor -%}
                    {{ measure }} as listagg_value
                ))),
                listagg_item -> listagg_item.listagg_value
            )
        {%- endset -%}
    {%- else -%}
        {%- set collected = 'collect_list(' ~ measure ~ ')' -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}
