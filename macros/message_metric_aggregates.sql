{#- Aggregates of unified events (int_events_unioned's columns) to one row per message;
    the caller groups by the message key. Used by fct_messages (all history) and by the
    windowed marts (events of the window only), so every level counts the same way.
    message_metric_columns() lists the columns it emits. -#}
{% macro message_metric_aggregates() -%}
    {%- set feedback_order_key = feedback_order_key_expression() -%}
    {{ event_count_aggregates() }},
    {%- for metric in event_count_metrics() %}
    {%- if metric.first_at is defined %}
    min(case when {{ event_matches(metric) }} then event_ts end) as {{ metric.first_at }},
    {%- endif %}
    {%- endfor %}
    max(_loaded_at) as last_loaded_at,
    min(event_ts) as first_event_at,
    max(event_ts) as last_event_at,
    min(case when event_source = 'feedback' then event_ts end) as first_feedback_at,
    -- epoch * 10 + precedence: max() finds the last feedback event, mod 10 its status.
    max(case when event_source = 'feedback' then {{ feedback_order_key }} end) as last_feedback_key,
    min(profile_id) as profile_id,
    min(case when event_source = 'feedback' and event_type in ('excluded', 'error', 'sent') then profile_id end) as targeted_profile_id,
    max(case when event_source = 'feedback' then recipient_address_hash end) as recipient_address_hash,
    max(case when event_source = 'feedback' then recipient_domain end) as recipient_domain,
    max(platform) as platform
{%- endmacro %}

{#- The names of the columns message_metric_aggregates() emits, in its order: a window that
    covers all history selects exactly these from fct_messages instead of re-aggregating. -#}
{% macro message_metric_columns() -%}
    {%- set columns = [] -%}
    {%- for metric in event_count_metrics() %}{% do columns.append(metric.name) %}{% endfor -%}
    {%- for metric in event_count_metrics() if metric.first_at is defined %}{% do columns.append(metric.first_at) %}{% endfor -%}
    {%- do columns.extend([
        'last_loaded_at', 'first_event_at', 'last_event_at', 'first_feedback_at', 'last_feedback_key',
        'profile_id', 'targeted_profile_id', 'recipient_address_hash', 'recipient_domain', 'platform'
    ]) -%}
    {{ return(columns) }}
{%- endmacro %}

{#- The message's delivery state, for fct_messages only (the windowed marts count events;
    they never need the state): the last post-send feedback event, and the failure type
    and reason of the last failing one. -#}
{% macro message_state_aggregates() -%}
    {%- set feedback_order_key = feedback_order_key_expression() -%}
    max(
        case when event_source = 'feedback' and event_type in ('delivered', 'bounce', 'retry') then {{ feedback_order_key }} end
    ) as last_post_send_key,
    {{ arg_max(
        "case when event_source = 'feedback' and event_type in ('excluded', 'error', 'bounce', 'retry') then failure_type end",
        "case when event_source = 'feedback' and event_type in ('excluded', 'error', 'bounce', 'retry') then " ~ feedback_order_key ~ " end"
    ) }} as last_failure_type,
    {{ arg_max(
        "case when event_source = 'feedback' and event_type in ('excluded', 'error', 'bounce', 'retry') then reason end",
        "case when event_source = 'feedback' and event_type in ('excluded', 'error', 'bounce', 'retry') then " ~ feedback_order_key ~ " end"
    ) }} as last_failure_reason
{%- endmacro %}

{#- epoch microseconds * 10 + the status's precedence: max() of it finds a message's last
    feedback event (ties broken by precedence), mod 10 gives back its status. -#}
{% macro feedback_order_key_expression() -%}
    {%- set feedback_rank -%}
        case event_type
            {%- for status, rank in feedback_status_precedence().items() %}
            when '{{ status }}' then {{ rank }}
            {%- endfor %}
        end
    {%- endset -%}
    {{ return(epoch_microseconds('event_ts') ~ ' * 10 + ' ~ feedback_rank) }}
{%- endmacro %}
