{#- The contract's and the pages' invariants on any relation holding report statistics
    (delivery_statistics_columns): each is checked where the relation has its columns (a
    per-domain breakdown has no forwards, say). Fails with every row that breaks one,
    naming it. Every rate of report_rates() is checked against its population. -#}
{% test delivery_invariants(model) %}
{%- set present = adapter.get_columns_in_relation(model) | map(attribute='name') | map('lower') | list -%}
{%- set checks = [
    ('targeted_is_excluded_errors_sent', ['targeted', 'excluded', 'errors', 'sent'], 'targeted = excluded + errors + sent'),
    ('bounce_types_sum_to_bounces', ['hard_bounces', 'soft_bounces', 'ignored_bounces', 'bounces'], 'hard_bounces + soft_bounces + ignored_bounces = bounces'),
    ('unique_opens_within_opens', ['unique_opens', 'opens'], 'unique_opens <= opens'),
    ('unique_clicks_within_clicks', ['unique_clicks', 'clicks'], 'unique_clicks <= clicks'),
    ('human_opens_within_opens', ['human_opens', 'opens'], 'human_opens between 0 and opens'),
    ('human_clicks_within_clicks', ['human_clicks', 'clicks'], 'human_clicks between 0 and clicks'),
    ('human_unique_opens_within_unique_opens', ['human_unique_opens', 'unique_opens', 'human_opens'], 'human_unique_opens <= unique_opens and human_unique_opens <= human_opens'),
    ('human_unique_clicks_within_unique_clicks', ['human_unique_clicks', 'unique_clicks', 'human_clicks'], 'human_unique_clicks <= unique_clicks and human_unique_clicks <= human_clicks'),
    ('human_open_rate_within_open_rate', ['human_open_rate', 'open_rate'], 'human_open_rate is null or human_open_rate <= open_rate'),
    ('unique_impressions_within_impressions', ['unique_impressions', 'impressions'], 'unique_impressions <= impressions'),
    ('unique_unsubscriptions_within_unsubscriptions', ['unique_unsubscriptions', 'unsubscriptions'], 'unique_unsubscriptions <= unsubscriptions'),
    ('unique_mirror_page_views_within_views', ['unique_mirror_page_views', 'mirror_page_views'], 'unique_mirror_page_views <= mirror_page_views'),
    ('unique_forwards_within_forwards', ['unique_forwards', 'forwards'], 'unique_forwards <= forwards'),
    ('unique_channel_clicks_within_clicks_and_actions', ['unique_channel_clicks', 'clicks', 'actions'], 'unique_channel_clicks <= clicks + actions'),
    ('channel_clickers_are_reached', ['unique_channel_clicks', 'unique_reached'], 'unique_channel_clicks <= unique_reached'),
    ('reached_within_messages', ['unique_reached', 'messages'], 'unique_reached <= messages'),
    ('estimated_forwards_not_negative', ['estimated_forwards'], 'estimated_forwards >= 0'),
    ('retries_within_messages', ['retries', 'messages'], 'retries <= messages'),
    ('estimated_opens_cover_opens', ['estimated_unique_opens', 'unique_opens'], 'estimated_unique_opens >= unique_opens'),
    ('estimated_opens_cover_clicks', ['estimated_unique_opens', 'unique_clicks'], 'estimated_unique_opens >= unique_clicks'),
    ('openers_cover_clickers', ['openers', 'clickers'], 'openers >= clickers'),
    ('engagements_are_opens_plus_actions', ['engagements', 'opens', 'actions'], 'engagements = opens + actions'),
    ('audience_within_messages', ['audience', 'messages'], 'audience <= messages'),
    ('messages_to_deliver_is_targeted_minus_excluded', ['messages_to_deliver', 'targeted', 'excluded'], 'messages_to_deliver = targeted - excluded'),
    ('execution_errors_are_errors_plus_bounces', ['execution_errors', 'errors', 'bounces'], 'execution_errors = errors + bounces'),
    ('sent_messages_within_sent', ['sent_messages', 'sent'], 'sent_messages <= sent'),
    ('delivered_messages_within_delivered', ['delivered_messages', 'delivered'], 'delivered_messages <= delivered'),
    ('attempted_messages_within_messages', ['attempted_messages', 'messages'], 'attempted_messages <= messages'),
    ('attempted_messages_cover_sent_messages', ['attempted_messages', 'sent_messages'], 'attempted_messages >= sent_messages'),
    ('new_quarantines_are_hard_bounced_messages', ['new_quarantines', 'hard_bounces', 'attempted_messages'], 'new_quarantines <= hard_bounces and new_quarantines <= attempted_messages'),
] -%}
{#- Every rate: a proportion of its population, so in [0, 1] on any data and any window,
    and null exactly where its population is empty. #}
{%- for rate in report_rates() %}
{%- do checks.append((rate.name ~ '_in_unit_interval', [rate.name], rate.name ~ ' is null or ' ~ rate.name ~ ' between 0 and 1')) %}
{%- do checks.append((rate.name ~ '_within_population', [rate.numerator, rate.denominator], rate.numerator ~ ' between 0 and ' ~ rate.denominator)) %}
{%- do checks.append((rate.name ~ '_null_iff_no_population', [rate.name, rate.denominator], '(' ~ rate.denominator ~ ' = 0) = (' ~ rate.name ~ ' is null)')) %}
{%- endfor %}
with

checked as (
    select
        *,
        concat_ws(
            ','
            {%- for name, columns, condition in checks if columns | reject('in', present) | list | length == 0 %},
            case when not ({{ condition }}) then '{{ name }}' end
            {%- endfor %}
        ) as broken_invariants
    from {{ model }}
)

select *
from checked
where broken_invariants != ''
{% endtest %}
