-- period_delivery_report_between over two adjacent ranges [start, middle) and [middle, end)
-- against the whole range [start, end): additive counts (events) add up exactly; unique
-- counts (distinct messages, profiles, addresses) are at least the larger part and at most
-- the sum. retries (messages still queued at a range's end) are neither, and not checked.
-- The range is the data's own span, split at its middle hour. DuckDB only.
{%- set additive = ['excluded', 'errors', 'sent', 'delivered', 'bounces', 'hard_bounces', 'soft_bounces', 'ignored_bounces',
    'opens', 'clicks', 'unsubscriptions', 'spam_complaints', 'mirror_page_views', 'forwards', 'impressions',
    'dismissals', 'other_interactions', 'actions', 'offers_sent', 'targeted', 'interactions', 'engagements', 'new_quarantines'] %}
{%- set unique = ['messages', 'audience', 'unique_opens', 'estimated_unique_opens', 'unique_clicks', 'unique_impressions'] %}
{{ config(tags=['cross_report', 'full_check'], enabled=(target.type == 'duckdb')) }}

with

span as (
    select
        min(activity_hour) as first_hour,
        {{ dbt.dateadd('hour', 1, 'max(activity_hour)') }} as end_hour,
        {{ dbt.dateadd('hour', '(' ~ dbt.datediff('min(activity_hour)', 'max(activity_hour)', 'hour') ~ ') / 2', 'min(activity_hour)') }}
            as middle_hour
    from {{ ref('fct_message_hours') }}
),

whole as (
    select whole_range.*
    from span
    cross join {{ unqualified_ref('period_delivery_report_between') }}(span.first_hour, span.end_hour) as whole_range
),

first_part as (
    select first_range.*
    from span
    cross join {{ unqualified_ref('period_delivery_report_between') }}(span.first_hour, span.middle_hour) as first_range
),

second_part as (
    select second_range.*
    from span
    cross join {{ unqualified_ref('period_delivery_report_between') }}(span.middle_hour, span.end_hour) as second_range
),

compared as (
    select
        whole.campaign_id,
        whole.execution_id,
        whole.channel,
        {%- for column in additive %}
        whole.{{ column }} != coalesce(first_part.{{ column }}, 0) + coalesce(second_part.{{ column }}, 0) as {{ column }}_does_not_add_up,
        {%- endfor %}
        {%- for column in unique %}
        whole.{{ column }} > coalesce(first_part.{{ column }}, 0) + coalesce(second_part.{{ column }}, 0)
        or whole.{{ column }} < greatest(coalesce(first_part.{{ column }}, 0), coalesce(second_part.{{ column }}, 0))
            as {{ column }}_out_of_bounds{% if not loop.last %},{% endif %}
        {%- endfor %}
    from whole
    left join first_part
        on
            whole.campaign_id = first_part.campaign_id
            and whole.execution_id = first_part.execution_id
            and whole.channel = first_part.channel
    left join second_part
        on
            whole.campaign_id = second_part.campaign_id
            and whole.execution_id = second_part.execution_id
            and whole.channel = second_part.channel
)

select *
from compared
where
    {% for column in additive -%}
    {{ column }}_does_not_add_up or
    {% endfor -%}
    {% for column in unique -%}
    {{ column }}_out_of_bounds{% if not loop.last %} or {% endif %}
    {% endfor %}
