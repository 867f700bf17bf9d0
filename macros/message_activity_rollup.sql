{#- Rolls rows of message_activity_columns() (a message's hours) up to a coarser span (a
    report window, all history); the caller groups by the message key. Counts add up,
    first times take the minimum, and "the last feedback / post-send / failing event" is
    the latest of the rows' last ones (same order as message_event_aggregates), so a
    window rolled up from hours equals the window aggregated from its events. -#}
{% macro message_activity_rollup() -%}
    {%- for metric in event_count_metrics() %}
    {{ sum_count(metric.name) }} as {{ metric.name }},
    {%- endfor %}
    {%- for metric in event_count_metrics() if metric.first_at is defined %}
    min({{ metric.first_at }}) as {{ metric.first_at }},
    {%- endfor %}
    min(first_event_at) as first_event_at,
    max(last_event_at) as last_event_at,
    min(first_feedback_at) as first_feedback_at,
    max(last_loaded_at) as last_loaded_at,
    {{ arg_max('last_feedback_status', feedback_order_key('last_feedback_at', 'last_feedback_status')) }} as last_feedback_status,
    max(last_feedback_at) as last_feedback_at,
    {{ arg_max('last_post_send_status', feedback_order_key('last_post_send_at', 'last_post_send_status')) }} as last_post_send_status,
    max(last_post_send_at) as last_post_send_at,
    {%- for column in ['last_failure_status', 'last_failure_type', 'last_failure_reason'] %}
    {{ arg_max(column, feedback_order_key('last_failure_at', 'last_failure_status')) }} as {{ column }},
    {%- endfor %}
    max(last_failure_at) as last_failure_at,
    min(targeted_profile_id) as targeted_profile_id,
    min(profile_id) as profile_id,
    max(recipient_address_hash) as recipient_address_hash,
    max(recipient_domain) as recipient_domain,
    max(platform) as platform
{%- endmacro %}

{#- The part of message_activity_rollup() that the message-kind metrics' conditions read
    (report_metrics(): event counts and the last feedback status): a report that rolls up
    only to evaluate them binds and plans a third of the aggregates. -#}
{% macro message_condition_rollup() -%}
    {%- for metric in event_count_metrics() %}
    {{ sum_count(metric.name) }} as {{ metric.name }},
    {%- endfor %}
    {{ arg_max('last_feedback_status', feedback_order_key('last_feedback_at', 'last_feedback_status')) }} as last_feedback_status
{%- endmacro %}
