{#- The evaluator's exclusion rule, for a project evaluated as a package. Upstream
    (vendor/dbt_project_evaluator/macros/set_is_excluded.sql) applies
    exclude_paths_from_project to the root project's resources only; here the root is this
    small wrapper and the warehouse is the package messaging_warehouse, so the paths apply
    to that package instead. Everything else is as upstream. Found first through the
    dispatch order in dbt_project.yml. -#}
{% macro default__set_is_excluded(resource, resource_type) %}
    {%- set re = modules.re -%}
    {%- set ns = namespace(exclude=false) -%}
    {%- set evaluated_project = var('evaluated_project', 'messaging_warehouse') -%}

    {%- if resource_type == 'node' -%}
        {%- set resource_path = resource.original_file_path | replace("\\","\\\\") -%}
    {%- elif resource_type == 'source' -%}
        {%- set resource_path = resource.original_file_path | replace("\\","\\\\") ~ ":" ~ resource.fqn[-2] ~ "." ~ resource.fqn[-1] -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("`set_is_excluded()` macro does not support resource type: " ~ resource_type) }}
    {%- endif -%}

    {%- for exclude_paths_pattern in var('exclude_paths_from_project', []) -%}
        {%- if re.search(exclude_paths_pattern, resource_path, re.IGNORECASE) and resource.package_name == evaluated_project -%}
            {%- set ns.exclude = true -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if resource.package_name not in (project_name, evaluated_project)
        and (resource.package_name in var('exclude_packages', []) or 'all' in var('exclude_packages', [])) -%}
        {%- set ns.exclude = true -%}
    {%- endif -%}

    {{ return(ns.exclude) }}
{% endmacro %}
