{#
    What: no two rows share the same values in `combination_of_columns`.
    When: the grain of a model is more than one column.
    How: group by the columns and return the groups holding more than one row.
#}
{% test unique_combination(model, combination_of_columns) %}

select
    {{ combination_of_columns | join(', ') }},
    count(*) as row_count
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1

{% endtest %}
