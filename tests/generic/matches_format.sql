{#
    What: every non-null value of the column matches a regular expression.
    When: a column is written to a Handshake file and must have Handshake's
    format (dates YYYY-MM-DD or **CLEAR**, booleans TRUE/FALSE, GPA 0.00-4.00).
    How: return the rows whose value does not match `pattern` (anchored).
#}
{% test matches_format(model, column_name, pattern) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
    and not {{ matches_pattern(column_name, pattern) }}

{% endtest %}
