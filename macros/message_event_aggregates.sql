{#- What one message did in a span of time (an hour, a report window), aggregated from its
    valid events (int_events_unioned's columns); the caller groups by the message key and
    the span. The output columns are message_activity_columns(); rows of this shape roll up
    to coarser spans with message_activity_rollup(), so a metric is counted the same way
    at every level (hour, window, all history). -#}
{% macro message_event_aggregates() -%}
    {%- set is_feedback = "event_source = 'feedback'" -%}
    {%- set post_send = is_feedback ~ " and event_type in ('delivered', 'bounce', 'retry')" -%}
    {%- set failing = is_feedback ~ " and event_type in ('excluded', 'error', 'bounce', 'retry')" -%}
    {%- set order_key = feedback_order_key('event_ts', 'event_type') -%}
    {{ event_count_aggregates() }},
    {%- for metric in event_count_metrics() if metric.first_at is defined %}
    min(case when {{ event_matches(metric) }} then event_ts end) as {{ metric.first_at }},
    {%- endfor %}
    min(event_ts) as first_event_at,
    max(event_ts) as last_event_at,
    min(case when {{ is_feedback }} then event_ts end) as first_feedback_at,
    max(_loaded_at) as last_loaded_at,
    {{ arg_max("case when " ~ is_feedback ~ " then event_type end", "case when " ~ is_feedback ~ " then " ~ order_key ~ " end") }}
        as last_feedback_status,
    max(case when {{ is_feedback }} then event_ts end) as last_feedback_at,
    {{ arg_max("case when " ~ post_send ~ " then event_type end", "case when " ~ post_send ~ " then " ~ order_key ~ " end") }}
        as last_post_send_status,
    max(case when {{ post_send }} then event_ts end) as last_post_send_at,
    {{ arg_max("case when " ~ failing ~ " then event_type end", "case when " ~ failing ~ " then " ~ order_key ~ " end") }}
        as last_failure_status,
    {{ arg_max("case when " ~ failing ~ " then failure_type end", "case when " ~ failing ~ " then " ~ order_key ~ " end") }}
        as last_failure_type,
    {{ arg_max("case when " ~ failing ~ " then reason end", "case when " ~ failing ~ " then " ~ order_key ~ " end") }}
        as last_failure_reason,
    max(case when {{ failing }} then event_ts end) as last_failure_at,
    min(case when {{ is_feedback }} and event_type in ('excluded', 'error', 'sent') then profile_id end) as targeted_profile_id,
    min(profile_id) as profile_id,
    max(case when {{ is_feedback }} then recipient_address_hash end) as recipient_address_hash,
    max(case when {{ is_feedback }} then recipient_domain end) as recipient_domain,
    max(platform) as platform
{%- endmacro %}
