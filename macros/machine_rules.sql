{#- Machine opens and clicks (fct_machine_engagements; docs/decisions.md, "Machine opens
    and clicks"): the rules' vars, validated, and the rules as one expression. -#}

{#- Seconds after a send of the message within which an email or SMS open or click is a
    machine's (a privacy proxy fetching images, a security scanner following links); 0
    turns the rule off. Default 10, at most 3600. -#}
{% macro machine_seconds_after_send() -%}
    {{ return(_integer_var('machine_seconds_after_send', 10, 0, 3600)) }}
{%- endmacro %}

{#- Case-insensitive fragments of the user agents of known image proxies and link
    scanners: an open or click whose user agent contains one is a machine's. A list of
    non-empty strings of letters, digits, spaces and . _ / - ; ( ). -#}
{% macro machine_user_agent_patterns() -%}
    {%- set raw = var('machine_user_agent_patterns', []) -%}
    {%- if raw is string or raw is mapping or raw is not iterable -%}
        {{ exceptions.raise_compiler_error("Invalid var machine_user_agent_patterns: expected a list of strings, got " ~ (raw | string | tojson)) }}
    {%- endif -%}
    {%- set patterns = [] -%}
    {%- for item in raw -%}
        {%- set text = item | string | trim | lower -%}
        {%- if not modules.re.fullmatch('[a-z0-9 ._/();-]+', text) -%}
            {{ exceptions.raise_compiler_error("Invalid var machine_user_agent_patterns: " ~ (item | string | tojson) ~ " is not a non-empty fragment of letters, digits, spaces and . _ / - ; ( )") }}
        {%- endif -%}
        {%- do patterns.append(text) -%}
    {%- endfor -%}
    {{ return(patterns) }}
{%- endmacro %}

{#- The names of the rules, in the order they are tried (the first that applies names the
    event's machine_rule). -#}
{% macro machine_rule_names() -%}
    {{ return(['platform_flag', 'known_agent', 'link_burst', 'soon_after_send']) }}
{%- endmacro %}

{#- The rule that makes an open or click a machine's, or null (a human's). The columns of
    `relation`: is_bot, user_agent, event_type, channel; `in_link_burst` and `after_send`
    are boolean SQL expressions (the message had another URL clicked in the same second;
    a send of the message came at most machine_seconds_after_send() before). -#}
{% macro machine_rule_expression(relation, in_link_burst, after_send) -%}
    {%- set patterns = machine_user_agent_patterns() -%}
    case
        when {{ relation }}.is_bot then 'platform_flag'
        {%- if patterns | length > 0 %}
        when {% for pattern in patterns %}lower({{ relation }}.user_agent) like '%{{ pattern }}%'{% if not loop.last %} or {% endif %}{% endfor %} then 'known_agent'
        {%- endif %}
        when {{ relation }}.event_type = 'click' and {{ in_link_burst }} then 'link_burst'
        {%- if machine_seconds_after_send() > 0 %}
        when {{ relation }}.channel in ('email', 'sms') and {{ after_send }} then 'soon_after_send'
        {%- endif %}
    end
{%- endmacro %}

{#- `events` (a relation or subquery of int_events_unioned's columns) with one more
    column, machine_rule: the rule fct_open_click_events classified the event by, null
    for a human's open or click and for every other event. `machine_filter` narrows the
    classified events read (e.g. to the hours of `events`, so zone maps skip the rest). -#}
{% macro events_with_machine_rule(events, machine_filter='true') -%}
    (select
        classified_events.*,
        machine_events.machine_rule
    from {{ events }} as classified_events
    left join (
        select
            event_id,
            machine_rule
        from {{ ref('fct_open_click_events') }}
        where is_machine and {{ machine_filter }}
    ) as machine_events
        on
            classified_events.event_source = 'tracking'
            and classified_events.event_id = machine_events.event_id)
{%- endmacro %}
