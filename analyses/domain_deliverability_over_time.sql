-- One recipient domain's deliverability per day over all history: sent, delivered,
-- bounces by type, and rates (shares of the messages first sent that day: the send
-- cohort). Change the domain with --vars '{analysis_domain: gmail.com}'.
with

messages as (
    select * from {{ ref('fct_messages') }}
    where
        channel = 'email'
        and recipient_domain = {{ identifier_var('analysis_domain', 'gmail.com') }}
        and first_sent_at is not null
),

daily as (
    select
        cast({{ dbt.date_trunc('day', 'first_sent_at') }} as date) as sent_date,
        sum(sent) as sent,
        sum(delivered) as delivered,
        sum(hard_bounces) as hard_bounces,
        sum(soft_bounces) as soft_bounces,
        sum(ignored_bounces) as ignored_bounces,
        sum(bounces) as bounces,
        count(*) as sent_messages,
        {{ count_where('delivered > 0') }} as sent_messages_delivered,
        {{ count_where('bounces > 0') }} as sent_messages_bounced
    from messages
    group by cast({{ dbt.date_trunc('day', 'first_sent_at') }} as date)
),

rated as (
    select
        *,
        {{ safe_divide('sent_messages_delivered', 'sent_messages') }} as delivered_rate,
        {{ safe_divide('sent_messages_bounced', 'sent_messages') }} as bounce_rate
    from daily
)

select * from rated
order by sent_date
