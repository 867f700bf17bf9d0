{#- A window's clicked links: clicks, distinct clicking messages (and the same for human
    clicks only: fct_open_click_events), share of all the
    grain's clicks, share of the grain's distinct clickers who clicked this link (the
    page's "% of users"), and the link's rank (1 = most clicked; ties broken by URL), per
    delivery or per campaign tab. "Top 10 links": link_rank <= 10. -#}
{% macro top_links_query(window, grain='delivery') -%}
{%- set keys = report_grain_keys(grain) -%}
with

link_clicks as (
    select * from {{ window_input(window, 'link_clicks') }} as link_clicks_in_window
),

links_counted as (
    select
        {{ keys | join(',\n        ') }},
        url,
        {{ sum_count('clicks') }} as clicks,
        count(distinct {{ dbt.concat(['execution_id', "'|'", 'message_id']) }}) as unique_clicks,
        {{ sum_count('human_clicks') }} as human_clicks,
        count(distinct case when human_clicks > 0 then {{ dbt.concat(['execution_id', "'|'", 'message_id']) }} end) as human_unique_clicks
    from link_clicks
    group by {{ keys | join(', ') }}, url
),

clickers_counted as (
    select
        {{ keys | join(',\n        ') }},
        count(distinct {{ dbt.concat(['execution_id', "'|'", 'message_id']) }}) as clickers
    from link_clicks
    group by {{ keys | join(', ') }}
),

links_joined as (
    select
        links_counted.*,
        clickers_counted.clickers
    from links_counted
    inner join clickers_counted
        on
            {% for key in keys -%}
            links_counted.{{ key }} = clickers_counted.{{ key }}{% if not loop.last %}
            and {% endif %}
            {%- endfor %}
),

final as (
    select
        {{ keys | join(',\n        ') }},
        url,
        {{ window_bounds_columns(window) }},
        clicks,
        unique_clicks,
        human_clicks,
        human_unique_clicks,
        {{ safe_divide('clicks', 'sum(clicks) over (partition by ' ~ keys | join(', ') ~ ')') }} as share_of_clicks,
        {{ safe_divide('unique_clicks', 'clickers') }} as share_of_clickers,
        cast(row_number() over (partition by {{ keys | join(', ') }} order by clicks desc, url asc) as {{ dbt.type_bigint() }}) as link_rank
    from links_joined
)

select * from final
{%- endmacro %}
