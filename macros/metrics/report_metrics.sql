{#- The single list of the reports' metrics: what each counts, declared once as data.
    Every aggregate of the project (message hours, windows, deliveries, campaign tabs,
    breakdowns) and every report's column list is generated from it, so a metric cannot
    drift between marts. Definitions in words: models/_docs.md, one doc block per name.

    kind:
    * event: events of a source and type (optionally a failure_type) counted; `first_at`
      names the message-level "first time" column kept for it; `human`: only the events
      no machine rule classifies (fct_open_click_events: the counted rows carry its
      machine_rule, null for a human's).
    * message: messages of the window (rows of message_activity_columns) meeting
      `condition`, i.e. distinct messages.
    * profile: distinct `column` values over the window's messages.
    * derived: an expression over a delivery's other metrics.
    * address: distinct recipient addresses (new_quarantines: first-ever hard bounces in the
      window), counted from fct_recipient_quarantines by the report queries.
    * click_agents: from the window's link clicks (estimated_forwards: distinct clicking
      message x user agent pairs beyond one per clicking message).
    * offer_event: events of a source and type that carry an offer_id (the offer marts).
    `report`: part of the delivery statistics every delivery-grain mart shows (in this
    order); `breakdown`: also shown per domain and per platform; `campaign`: summed over
    the campaign's deliveries on the live campaign tab (live_campaign_statistics);
    `hourly`: besides every event metric, counted per clock hour from events by the live
    time series (an offer_event metric counts its events; a message metric with
    `of_event` counts the distinct messages with such an event). A message metric with `of_event` and no
    `condition` counts the messages with at least one of those events. `experiment`: a
    success metric of the content experiments, counted per profile (experiment_success_metrics). -#}
{% macro report_metrics() -%}
    {%- set reached -%}
        case channel
            when 'email' then opens > 0 or clicks > 0
            when 'push' then opens > 0 or actions > 0
            when 'sms' then delivered > 0 or clicks > 0
            when 'inapp' then impressions > 0 or clicks > 0
            when 'web' then impressions > 0 or clicks > 0
            else false
        end
    {%- endset -%}
    {%- set metrics = [
        {'name': 'messages', 'kind': 'message', 'condition': 'true', 'report': true, 'breakdown': true},
        {'name': 'audience', 'kind': 'profile', 'column': 'targeted_profile_id', 'report': true, 'breakdown': true},
        {'name': 'targeted', 'kind': 'derived', 'expression': 'excluded + errors + sent', 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'excluded', 'kind': 'event', 'source': 'feedback', 'event_type': 'excluded', 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'errors', 'kind': 'event', 'source': 'feedback', 'event_type': 'error', 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'sent', 'kind': 'event', 'source': 'feedback', 'event_type': 'sent', 'first_at': 'first_sent_at', 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'delivered', 'kind': 'event', 'source': 'feedback', 'event_type': 'delivered', 'first_at': 'first_delivered_at', 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'bounces', 'kind': 'event', 'source': 'feedback', 'event_type': 'bounce', 'first_at': 'first_bounce_at', 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'hard_bounces', 'kind': 'event', 'source': 'feedback', 'event_type': 'bounce', 'failure_type': 'hard', 'report': true, 'breakdown': true},
        {'name': 'soft_bounces', 'kind': 'event', 'source': 'feedback', 'event_type': 'bounce', 'failure_type': 'soft', 'report': true, 'breakdown': true},
        {'name': 'ignored_bounces', 'kind': 'event', 'source': 'feedback', 'event_type': 'bounce', 'failure_type': 'ignored', 'report': true, 'breakdown': true},
        {'name': 'retry_events', 'kind': 'event', 'source': 'feedback', 'event_type': 'retry', 'first_at': 'first_retry_at'},
        {'name': 'retries', 'kind': 'message', 'condition': "last_feedback_status = 'retry'", 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'opens', 'kind': 'event', 'source': 'tracking', 'event_type': 'open', 'first_at': 'first_open_at', 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'unique_opens', 'kind': 'message', 'condition': 'opens > 0', 'report': true, 'breakdown': true, 'experiment': true},
        {'name': 'estimated_unique_opens', 'kind': 'message', 'condition': 'opens > 0 or clicks > 0', 'report': true, 'breakdown': true},
        {'name': 'clicks', 'kind': 'event', 'source': 'tracking', 'event_type': 'click', 'first_at': 'first_click_at', 'report': true, 'breakdown': true, 'campaign': true, 'experiment': true},
        {'name': 'unique_clicks', 'kind': 'message', 'condition': 'clicks > 0', 'report': true, 'breakdown': true, 'experiment': true},
        {'name': 'human_opens', 'kind': 'event', 'source': 'tracking', 'event_type': 'open', 'human': true, 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'human_unique_opens', 'kind': 'message', 'condition': 'human_opens > 0', 'report': true, 'breakdown': true, 'experiment': true},
        {'name': 'human_clicks', 'kind': 'event', 'source': 'tracking', 'event_type': 'click', 'human': true, 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'human_unique_clicks', 'kind': 'message', 'condition': 'human_clicks > 0', 'report': true, 'breakdown': true, 'experiment': true},
        {'name': 'unique_channel_clicks', 'kind': 'message', 'condition': "case when channel = 'push' then actions > 0 else clicks > 0 end", 'report': true, 'breakdown': true},
        {'name': 'unique_reached', 'kind': 'message', 'condition': reached, 'report': true, 'breakdown': true},
        {'name': 'unsubscriptions', 'kind': 'event', 'source': 'tracking', 'event_type': 'unsubscribe', 'first_at': 'first_unsubscribe_at', 'report': true, 'breakdown': true},
        {'name': 'unique_unsubscriptions', 'kind': 'message', 'condition': 'unsubscriptions > 0', 'report': true},
        {'name': 'spam_complaints', 'kind': 'event', 'source': 'tracking', 'event_type': 'spam_complaint', 'first_at': 'first_spam_complaint_at', 'report': true, 'breakdown': true},
        {'name': 'mirror_page_views', 'kind': 'event', 'source': 'tracking', 'event_type': 'mirror_page', 'first_at': 'first_mirror_page_at', 'report': true},
        {'name': 'unique_mirror_page_views', 'kind': 'message', 'condition': 'mirror_page_views > 0', 'report': true},
        {'name': 'forwards', 'kind': 'event', 'source': 'tracking', 'event_type': 'forward', 'first_at': 'first_forward_at', 'report': true},
        {'name': 'unique_forwards', 'kind': 'message', 'condition': 'forwards > 0', 'report': true},
        {'name': 'estimated_forwards', 'kind': 'click_agents', 'report': true},
        {'name': 'impressions', 'kind': 'event', 'source': 'tracking', 'event_type': 'impression', 'first_at': 'first_impression_at', 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'unique_impressions', 'kind': 'message', 'of_event': 'impressions', 'report': true, 'breakdown': true, 'hourly': true},
        {'name': 'dismissals', 'kind': 'event', 'source': 'tracking', 'event_type': 'dismiss', 'first_at': 'first_dismiss_at', 'report': true},
        {'name': 'other_interactions', 'kind': 'event', 'source': 'tracking', 'event_type': 'interaction', 'first_at': 'first_interaction_at', 'report': true},
        {'name': 'interactions', 'kind': 'derived', 'expression': "case when channel in ('inapp', 'web') then clicks + dismissals + other_interactions else 0 end", 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'actions', 'kind': 'event', 'source': 'tracking', 'event_type': 'action', 'first_at': 'first_action_at', 'report': true, 'breakdown': true},
        {'name': 'engagements', 'kind': 'derived', 'expression': 'opens + actions', 'report': true, 'breakdown': true, 'campaign': true},
        {'name': 'offers_sent', 'kind': 'event', 'source': 'proposition', 'event_type': 'proposition', 'report': true},
        {'name': 'new_quarantines', 'kind': 'address', 'report': true},
        {'name': 'offer_clicks', 'kind': 'offer_event', 'source': 'tracking', 'event_type': 'click', 'hourly': true},
        {'name': 'openers', 'kind': 'message', 'condition': 'opens > 0 or clicks > 0', 'breakdown': true},
        {'name': 'clickers', 'kind': 'message', 'condition': 'clicks > 0', 'breakdown': true},
        {'name': 'initial_audience', 'kind': 'derived', 'expression': 'excluded + errors + sent', 'report': true},
        {'name': 'rejected_by_rules', 'kind': 'derived', 'expression': 'excluded', 'report': true},
        {'name': 'messages_to_deliver', 'kind': 'derived', 'expression': 'errors + sent', 'report': true},
        {'name': 'success', 'kind': 'derived', 'expression': 'delivered', 'report': true},
        {'name': 'execution_errors', 'kind': 'derived', 'expression': 'errors + bounces', 'report': true},
        {'name': 'sent_messages', 'kind': 'message', 'condition': 'sent > 0', 'report': true, 'breakdown': true},
        {'name': 'sent_messages_delivered', 'kind': 'message', 'condition': 'sent > 0 and delivered > 0', 'report': true, 'breakdown': true},
        {'name': 'sent_messages_bounced', 'kind': 'message', 'condition': 'sent > 0 and bounces > 0', 'report': true, 'breakdown': true},
        {'name': 'delivered_messages', 'kind': 'message', 'condition': 'delivered > 0', 'report': true, 'breakdown': true},
        {'name': 'delivered_messages_opened', 'kind': 'message', 'condition': 'delivered > 0 and opens > 0', 'report': true, 'breakdown': true},
        {'name': 'delivered_messages_clicked', 'kind': 'message', 'condition': 'delivered > 0 and clicks > 0', 'report': true, 'breakdown': true},
        {'name': 'delivered_messages_human_opened', 'kind': 'message', 'condition': 'delivered > 0 and human_opens > 0', 'report': true, 'breakdown': true},
        {'name': 'delivered_messages_human_clicked', 'kind': 'message', 'condition': 'delivered > 0 and human_clicks > 0', 'report': true, 'breakdown': true},
        {'name': 'delivered_messages_complained', 'kind': 'message', 'condition': 'delivered > 0 and spam_complaints > 0', 'report': true, 'breakdown': true},
        {'name': 'delivered_messages_unsubscribed', 'kind': 'message', 'condition': 'delivered > 0 and unsubscriptions > 0', 'report': true, 'breakdown': true},
        {'name': 'opened_messages_clicked', 'kind': 'message', 'condition': 'opens > 0 and clicks > 0', 'report': true, 'breakdown': true},
        {'name': 'attempted_messages', 'kind': 'message', 'condition': 'errors > 0 or sent > 0 or bounces > 0', 'report': true, 'breakdown': true},
        {'name': 'attempted_messages_delivered', 'kind': 'message', 'condition': '(errors > 0 or sent > 0 or bounces > 0) and delivered > 0', 'report': true, 'breakdown': true},
        {'name': 'attempted_messages_errored', 'kind': 'message', 'condition': 'errors > 0', 'report': true, 'breakdown': true},
        {'name': 'attempted_messages_failed', 'kind': 'message', 'condition': 'errors > 0 or bounces > 0', 'report': true, 'breakdown': true},
    ] -%}
    {%- for metric in metrics if metric.of_event is defined and metric.condition is not defined -%}
        {%- do metric.update({'condition': metric.of_event ~ ' > 0'}) -%}
    {%- endfor -%}
    {{ return(metrics) }}
{%- endmacro %}

{#- One metric of the list, by name. -#}
{% macro report_metric(name) -%}
    {%- set found = report_metrics() | selectattr('name', 'equalto', name) | list -%}
    {%- if found | length != 1 -%}
        {{ exceptions.raise_compiler_error("no metric " ~ name ~ " in report_metrics()") }}
    {%- endif -%}
    {{ return(found[0]) }}
{%- endmacro %}

{#- The metrics of one kind, in list order. -#}
{% macro report_metrics_of_kind(kind) -%}
    {{ return(report_metrics() | selectattr('kind', 'equalto', kind) | list) }}
{%- endmacro %}

{#- The event-count metrics: what message hours and windows count from events. -#}
{% macro event_count_metrics() -%}
    {{ return(report_metrics_of_kind('event')) }}
{%- endmacro %}

{#- The rates, numerator over denominator (metrics of the list), null where the
    denominator is 0; `report` and `breakdown` as for the metrics. Each is a proportion:
    its denominator counts the messages of a population in the window (sent, delivered,
    opened, to deliver) and its numerator those of them that also meet the rate's condition
    in the window, so no data and no window cut puts a rate above 1 (a rate of event counts,
    delivered events over sent events, does when the sends fell before the window). The
    populations and numerators are message metrics of the list, shown beside the rates. -#}
{% macro report_rates() -%}
    {{ return([
        {'name': 'delivered_rate', 'numerator': 'sent_messages_delivered', 'denominator': 'sent_messages', 'report': true, 'breakdown': true},
        {'name': 'bounce_rate', 'numerator': 'sent_messages_bounced', 'denominator': 'sent_messages', 'report': true, 'breakdown': true},
        {'name': 'open_rate', 'numerator': 'delivered_messages_opened', 'denominator': 'delivered_messages', 'report': true, 'breakdown': true},
        {'name': 'click_rate', 'numerator': 'delivered_messages_clicked', 'denominator': 'delivered_messages', 'report': true, 'breakdown': true},
        {'name': 'human_open_rate', 'numerator': 'delivered_messages_human_opened', 'denominator': 'delivered_messages', 'report': true, 'breakdown': true},
        {'name': 'human_click_rate', 'numerator': 'delivered_messages_human_clicked', 'denominator': 'delivered_messages', 'report': true, 'breakdown': true},
        {'name': 'reactivity', 'numerator': 'unique_clicks', 'denominator': 'estimated_unique_opens', 'report': true, 'breakdown': true},
        {'name': 'raw_reactivity', 'numerator': 'opened_messages_clicked', 'denominator': 'unique_opens', 'report': true, 'breakdown': true},
        {'name': 'channel_reactivity', 'numerator': 'unique_channel_clicks', 'denominator': 'unique_reached', 'report': true, 'breakdown': true},
        {'name': 'recipient_raw_reactivity', 'numerator': 'clickers', 'denominator': 'openers', 'breakdown': true},
        {'name': 'success_rate', 'numerator': 'attempted_messages_delivered', 'denominator': 'attempted_messages', 'report': true},
        {'name': 'error_rate', 'numerator': 'attempted_messages_errored', 'denominator': 'attempted_messages', 'report': true},
        {'name': 'execution_error_rate', 'numerator': 'attempted_messages_failed', 'denominator': 'attempted_messages', 'report': true},
        {'name': 'new_quarantine_rate', 'numerator': 'new_quarantines', 'denominator': 'attempted_messages', 'report': true},
    ]) }}
{%- endmacro %}
