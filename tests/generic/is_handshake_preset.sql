{#
    What: every non-null value is one of Handshake's presets for `kind`
    (school_year_name or education_level_name), spelled exactly as Handshake does.
    When: a column is written to a Handshake file.
    How: return the rows whose value is not in seeds/handshake_presets.csv.
#}
{% test is_handshake_preset(model, column_name, kind) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in (
        select presets.value
        from {{ ref('handshake_presets') }} as presets
        where presets.preset_list = '{{ kind }}'
    )

{% endtest %}
