{#- The alerts' vars, validated (live_alerts): a bad value stops the run with a message
    naming the var. Each rate: its numerator and its denominator, message counts of
    report_metrics() (a proportion of the messages of the window that had the event the
    rate is out of), as live_delivery_statistics and live_recipient_domains name them. -#}
{% macro alert_rates() -%}
    {{ return([
        {'name': 'bounce_rate', 'numerator': 'sent_messages_bounced', 'denominator': 'sent_messages'},
        {'name': 'complaint_rate', 'numerator': 'delivered_messages_complained', 'denominator': 'delivered_messages'},
        {'name': 'error_rate', 'numerator': 'attempted_messages_errored', 'denominator': 'attempted_messages'},
        {'name': 'unsubscribe_rate', 'numerator': 'delivered_messages_unsubscribed', 'denominator': 'delivered_messages'},
    ]) }}
{%- endmacro %}

{#- {rate name: {'warning': level, 'critical': level}} from var alert_thresholds. -#}
{% macro alert_thresholds() -%}
    {%- set given = var('alert_thresholds', {}) -%}
    {%- if given is not mapping -%}
        {{ exceptions.raise_compiler_error("Invalid var alert_thresholds: expected a mapping of rate name to {warning: level, critical: level}") }}
    {%- endif -%}
    {%- set names = alert_rates() | map(attribute='name') | list -%}
    {%- set levels = {} -%}
    {%- for name, value in given.items() -%}
        {%- if name not in names -%}
            {{ exceptions.raise_compiler_error("Invalid var alert_thresholds: unknown rate " ~ (name | tojson) ~ "; known: " ~ names | join(', ')) }}
        {%- endif -%}
        {%- if value is not mapping or 'warning' not in value or 'critical' not in value -%}
            {{ exceptions.raise_compiler_error("Invalid var alert_thresholds." ~ name ~ ": expected {warning: level, critical: level}") }}
        {%- endif -%}
        {%- for level in ['warning', 'critical'] -%}
            {%- if not modules.re.fullmatch('[0-9]+(\.[0-9]+)?', value[level] | string) -%}
                {{ exceptions.raise_compiler_error("Invalid var alert_thresholds." ~ name ~ "." ~ level ~ ": expected a rate such as 0.05, got " ~ (value[level] | string | tojson)) }}
            {%- endif -%}
        {%- endfor -%}
        {%- if value['warning'] | float > value['critical'] | float -%}
            {{ exceptions.raise_compiler_error("Invalid var alert_thresholds." ~ name ~ ": warning above critical") }}
        {%- endif -%}
        {%- do levels.update({name: {'warning': value['warning'] | float, 'critical': value['critical'] | float}}) -%}
    {%- endfor -%}
    {%- for name in names if name not in levels -%}
        {{ exceptions.raise_compiler_error("Invalid var alert_thresholds: no levels for " ~ name) }}
    {%- endfor -%}
    {{ return(levels) }}
{%- endmacro %}

{% macro alert_min_volume() -%}
    {{ return(_integer_var('alert_min_volume', 100, 1)) }}
{%- endmacro %}

{% macro alert_baseline_days() -%}
    {{ return(_integer_var('alert_baseline_days', 30, 1)) }}
{%- endmacro %}

{% macro alert_baseline_factor() -%}
    {%- set raw = var('alert_baseline_factor', 3) | string | trim -%}
    {%- if not modules.re.fullmatch('[0-9]+(\.[0-9]+)?', raw) or raw | float <= 1 -%}
        {{ exceptions.raise_compiler_error("Invalid var alert_baseline_factor: expected a number above 1, got " ~ (raw | tojson)) }}
    {%- endif -%}
    {{ return(raw | float) }}
{%- endmacro %}
