{#- The single definition of every event-count metric of the contract: which events a
    metric counts. Message-level and delivery-level aggregates, the facts and every
    windowed mart are generated from this list, so a metric cannot drift between marts.
    `first_at` names the message-level "first time" column kept for interactions. -#}
{% macro event_count_metrics() -%}
    {{ return([
        {'name': 'excluded', 'source': 'feedback', 'event_type': 'excluded'},
        {'name': 'errors', 'source': 'feedback', 'event_type': 'error'},
        {'name': 'sent', 'source': 'feedback', 'event_type': 'sent', 'first_at': 'first_sent_at'},
        {'name': 'delivered', 'source': 'feedback', 'event_type': 'delivered', 'first_at': 'first_delivered_at'},
        {'name': 'bounces', 'source': 'feedback', 'event_type': 'bounce', 'first_at': 'first_bounce_at'},
        {'name': 'hard_bounces', 'source': 'feedback', 'event_type': 'bounce', 'failure_type': 'hard'},
        {'name': 'soft_bounces', 'source': 'feedback', 'event_type': 'bounce', 'failure_type': 'soft'},
        {'name': 'ignored_bounces', 'source': 'feedback', 'event_type': 'bounce', 'failure_type': 'ignored'},
        {'name': 'retry_events', 'source': 'feedback', 'event_type': 'retry', 'first_at': 'first_retry_at'},
        {'name': 'opens', 'source': 'tracking', 'event_type': 'open', 'first_at': 'first_open_at'},
        {'name': 'clicks', 'source': 'tracking', 'event_type': 'click', 'first_at': 'first_click_at'},
        {'name': 'unsubscriptions', 'source': 'tracking', 'event_type': 'unsubscribe', 'first_at': 'first_unsubscribe_at'},
        {'name': 'spam_complaints', 'source': 'tracking', 'event_type': 'spam_complaint', 'first_at': 'first_spam_complaint_at'},
        {'name': 'mirror_page_views', 'source': 'tracking', 'event_type': 'mirror_page', 'first_at': 'first_mirror_page_at'},
        {'name': 'forwards', 'source': 'tracking', 'event_type': 'forward', 'first_at': 'first_forward_at'},
        {'name': 'impressions', 'source': 'tracking', 'event_type': 'impression', 'first_at': 'first_impression_at'},
        {'name': 'dismissals', 'source': 'tracking', 'event_type': 'dismiss', 'first_at': 'first_dismiss_at'},
        {'name': 'other_interactions', 'source': 'tracking', 'event_type': 'interaction', 'first_at': 'first_interaction_at'},
        {'name': 'actions', 'source': 'tracking', 'event_type': 'action', 'first_at': 'first_action_at'},
        {'name': 'offers_sent', 'source': 'proposition', 'event_type': 'proposition'},
    ]) }}
{%- endmacro %}

{#- Feedback statuses ranked for "the last feedback event": on an event_ts tie a final
    outcome beats a retry, and a retry beats the send (docs/decisions.md). -#}
{% macro feedback_status_precedence() -%}
    {{ return({'excluded': 1, 'error': 2, 'sent': 3, 'retry': 4, 'delivered': 5, 'bounce': 6}) }}
{%- endmacro %}

{% macro event_matches(metric) -%}
    event_source = '{{ metric.source }}' and event_type = '{{ metric.event_type }}'
    {%- if metric.failure_type is defined %} and failure_type = '{{ metric.failure_type }}'{% endif %}
{%- endmacro %}

{#- One sum per event-count metric over unified events; the caller groups. -#}
{% macro event_count_aggregates() -%}
    {%- for metric in event_count_metrics() %}
    {{ count_where(event_matches(metric)) }} as {{ metric.name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}
