{#
    A share var (a number above 0 and at most 1, such as 0.5), validated; a
    bad value stops the run naming the setting. Returns the number as
    written, for a SQL decimal literal.
#}
{% macro setting_share(name) -%}
    {%- set value = var(name) -%}
    {%- set text = value | string | trim -%}
    {%- if not modules.re.match('^(0?[.][0-9]+|1([.]0*)?|0)$', text) or (text | float) <= 0 -%}
        {{ exceptions.raise_compiler_error(
            "The setting " ~ name ~ " must be a share above 0 and at most 1 (such as 0.5); got '" ~ value ~ "'."
        ) }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}
