"""The live refresh: dbt in-process, the publish of the serving file, the watch service."""
