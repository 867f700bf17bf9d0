{#- Orders feedback events for "the last feedback event": event time, then on a tie the
    status precedence of feedback_status_precedence() (a final outcome beats a retry, a
    retry beats the send). A bigint (epoch microseconds * 10 + precedence) used only inside
    aggregates: the columns stored are the readable status and time. -#}
{% macro feedback_order_key(timestamp_column, status_column) -%}
    {%- set precedence -%}
        case {{ status_column }}
            {%- for status, rank in feedback_status_precedence().items() %}
            when '{{ status }}' then {{ rank }}
            {%- endfor %}
        end
    {%- endset -%}
    ({{ epoch_microseconds(timestamp_column) }} * 10 + {{ precedence }})
{%- endmacro %}
