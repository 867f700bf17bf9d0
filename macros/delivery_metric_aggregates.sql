{#- Aggregates of message-level rows (message_metric_aggregates' columns) to one row per
    delivery; the caller groups by campaign_id, execution_id, channel. Unique counts are
    messages with at least one such event, per the contract. -#}
{% macro delivery_metric_aggregates() -%}
    {%- for metric in event_count_metrics() %}
    {{ sum_count(metric.name) }} as {{ metric.name }},
    {%- endfor %}
    -- Still in the retry queue: the message's last feedback event is a retry.
    {{ count_where('mod(last_feedback_key, 10) = ' ~ feedback_status_precedence()['retry']) }} as retries,
    {{ count_where("opens > 0") }} as unique_opens,
    {{ count_where("opens > 0 or clicks > 0") }} as estimated_unique_opens,
    {{ count_where("clicks > 0") }} as unique_clicks,
    {{ count_where("impressions > 0") }} as unique_impressions,
    count(distinct targeted_profile_id) as audience,
    count(*) as messages,
    min(first_feedback_at) as first_feedback_at,
    min(first_event_at) as first_event_at,
    max(last_event_at) as last_event_at,
    max(last_loaded_at) as last_loaded_at
{%- endmacro %}

{#- Metrics derived from delivery-level counts; select them from a CTE holding the
    aggregates above. -#}
{% macro delivery_derived_metrics() -%}
    excluded + errors + sent as targeted,
    case when channel in ('inapp', 'web') then clicks + dismissals + other_interactions else 0 end as interactions,
    opens + actions as engagements
{%- endmacro %}

{#- The contract's rates, null where the denominator is 0. -#}
{% macro delivery_rates() -%}
    {{ safe_divide('delivered', 'sent') }} as delivered_rate,
    {{ safe_divide('bounces', 'sent') }} as bounce_rate,
    {{ safe_divide('unique_opens', 'delivered') }} as open_rate,
    {{ safe_divide('unique_clicks', 'delivered') }} as click_rate,
    {{ safe_divide('unique_clicks', 'estimated_unique_opens') }} as reactivity,
    {{ safe_divide('unique_clicks', 'unique_opens') }} as raw_reactivity
{%- endmacro %}
