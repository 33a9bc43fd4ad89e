{#
    The CLEAR rule: the primary_education:end_date cell to send.
    A blank cell leaves Handshake's end date in place; only **CLEAR** wipes it.
    - an end date to send: that date;
    - none to send, Handshake holds none: blank;
    - none to send, but the row sends a start date different from Handshake's,
      or keeping the held end date would make Handshake reject the record
      (end before the new start, or currently attending with a past end
      date): **CLEAR**;
    - otherwise blank (the held end date stays, and is still valid).
#}
{% macro resolve_end_date(
    end_date_to_send,
    start_date_to_send,
    is_currently_attending,
    handshake_start_date,
    handshake_end_date
) -%}
    case
        when {{ end_date_to_send }} is not null then {{ render_date(end_date_to_send) }}
        when {{ handshake_end_date }} is null then null
        when {{ handshake_start_date }} is null
            or {{ handshake_start_date }} != {{ start_date_to_send }}
            then '**CLEAR**'
        when {{ handshake_end_date }} < {{ start_date_to_send }} then '**CLEAR**'
        when {{ is_currently_attending }} and {{ handshake_end_date }} < {{ as_of_date() }}
            then '**CLEAR**'
    end
{%- endmacro %}
