{#
    An expression that sorts in code-point (byte) order whatever the engine's
    default collation, so that files list usernames in the same order on
    every engine.
#}
{% macro bytewise(expression) -%}
    {{ return(adapter.dispatch('bytewise', 'handshake_alumni')(expression)) }}
{%- endmacro %}

{% macro default__bytewise(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro postgres__bytewise(expression) -%}
    {{ expression }} collate "C"
{%- endmacro %}
