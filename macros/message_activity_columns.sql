{#- The names of the columns message_event_aggregates() and message_activity_rollup()
    emit, in their order. -#}
{% macro message_activity_columns() -%}
    {%- set columns = [] -%}
    {%- for metric in event_count_metrics() %}{% do columns.append(metric.name) %}{% endfor -%}
    {%- for metric in event_count_metrics() if metric.first_at is defined %}{% do columns.append(metric.first_at) %}{% endfor -%}
    {%- do columns.extend([
        'first_event_at', 'last_event_at', 'first_feedback_at', 'last_loaded_at',
        'last_feedback_status', 'last_feedback_at', 'last_post_send_status', 'last_post_send_at',
        'last_failure_status', 'last_failure_type', 'last_failure_reason', 'last_failure_at',
        'targeted_profile_id', 'profile_id', 'recipient_address_hash', 'recipient_domain', 'platform'
    ]) -%}
    {{ return(columns) }}
{%- endmacro %}
