{#
    DuckDB's listagg (dbt.listagg on DuckDB), used by every listagg call of the
    project. dbt-duckdb writes string_agg(... order by ...), an ordered
    aggregate that keeps a sort per group: slow with a million small groups
    (majors per student). For one ascending sort column this collects the
    (sort key, value) pairs into a list and sorts the list instead: the same
    text (ties ordered by value), several times faster. Anything else (several
    sort keys, desc, a limit) keeps dbt-duckdb's string_agg.
#}
{% macro duckdb__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set single_key = modules.re.match(
        '^\s*order\s+by\s+([a-z_][a-z0-9_.]*)(\s+asc)?\s*$', order_by_clause or '', modules.re.IGNORECASE
    ) -%}
    {%- if single_key and not limit_num -%}
        case
            when count({{ measure }}) > 0
                then array_to_string(
                    list_transform(
                        list_sort(
                            list(struct_pack(sort_key := {{ single_key.group(1) }}, item := {{ measure }}))
                                filter (where {{ measure }} is not null)
                        ),
                        entry -> entry.item
                    ),
                    {{ delimiter_text }}
                )
        end
    {%- else -%}
        {%- if limit_num -%}
            list_aggr(
                (array_agg({{ measure }} {{ order_by_clause or '' }}))[1:{{ limit_num }}],
                'string_agg',
                {{ delimiter_text }}
            )
        {%- else -%}
            string_agg({{ measure }}, {{ delimiter_text }} {{ order_by_clause or '' }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
