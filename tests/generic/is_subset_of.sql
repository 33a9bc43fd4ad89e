{#
    What: every value of the column also appears in `field` of `to`.
    When: one file must only hold rows of another (alumni update rows are
    sync rows; password notices are alumni update rows).
    How: return the values missing from `to`. (Like dbt's relationships test,
    named for what it proves here.)
#}
{% test is_subset_of(model, column_name, to, field) %}

select child.{{ column_name }}
from {{ model }} as child
left join {{ to }} as parent
    on child.{{ column_name }} = parent.{{ field }}
where child.{{ column_name }} is not null
    and parent.{{ field }} is null

{% endtest %}
