{#- The alerts' vars, validated (live_alerts): a bad value stops the run with a message
    naming the var. Each rate: its numerator count and the counts its denominator adds up,
    as live_delivery_statistics and live_recipient_domains name them. -#}
{% macro alert_rates() -%}
    {{ return([
        {'name': 'bounce_rate', 'numerator': 'bounces', 'denominator': ['sent']},
        {'name': 'complaint_rate', 'numerator': 'spam_complaints', 'denominator': ['delivered']},
        {'name': 'error_rate', 'numerator': 'errors', 'denominator': ['errors', 'sent']},
        {'name': 'unsubscribe_rate', 'numerator': 'unsubscriptions', 'denominator': ['delivered']},
    ]) }}
{%- endmacro %}

{#- A rate's denominator over the counts of `relation`: its columns added up. -#}
{% macro alert_denominator(rate, relation) -%}
    {%- for column in rate.denominator -%}
    {{ relation }}.{{ column }}{% if not loop.last %} + {% endif %}
    {%- endfor -%}
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
