"""Loading event files into the raw tables: flat files, the Parquet lake, PostgreSQL, the AJO layout."""
