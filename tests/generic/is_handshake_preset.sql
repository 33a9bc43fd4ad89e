{#
    What: every non-null value is one of Handshake's presets for `kind`
    (school_year_name or education_level_name), spelled exactly as Handshake does.
    When: a column is written to a Handshake file.
    How: return the rows whose value is not in macros/handshake_presets.sql.
#}
{% test is_handshake_preset(model, column_name, kind) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (
        {%- for preset in handshake_presets(kind) %}
        '{{ preset }}'{{ ',' if not loop.last }}
        {%- endfor %}
    )

{% endtest %}
