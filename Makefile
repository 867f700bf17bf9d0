# Front door: `make demo` runs the main job, `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export WAREHOUSE_PATH ?= $(CURDIR)/warehouse/warehouse.duckdb
TEST_WAREHOUSE := $(CURDIR)/warehouse/test.duckdb
SAMPLE_DIR := data/sample
# The bundled sample ends on 2026-11-15; its live report is read as of this time.
SAMPLE_REPORT_AS_OF := 2026-11-14 12:00:00
SAMPLE_VARS := {report_as_of: "$(SAMPLE_REPORT_AS_OF)"}
RAW_TABLES := campaigns message_feedback_events message_tracking_events offer_propositions

.PHONY: install demo load-sample build report test lint dbt-test pytest load clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(BIN)/.installed

## Main job: install, load the bundled sample, dbt build (with tests), print the headline report.
demo: install load-sample build report

load-sample: install
	for table in $(RAW_TABLES); do \
		$(BIN)/python scripts/load_events.py --quiet --table $$table $(SAMPLE_DIR)/$$table.csv; \
	done

build: install
	$(BIN)/dbt build --vars '$(SAMPLE_VARS)'

report: install
	$(BIN)/python scripts/report.py

## Load your own files: make load TABLE=message_feedback_events FILES="a.parquet b.csv"
load: install
	$(BIN)/python scripts/load_events.py --table $(TABLE) $(FILES)

## Every test: lint, dbt build with all tests on a fresh test warehouse, pytest.
test: install lint dbt-test pytest

lint: install
	mkdir -p warehouse
	WAREHOUSE_PATH=$(CURDIR)/warehouse/lint.duckdb $(BIN)/sqlfluff lint models analyses

dbt-test: install
	rm -f $(TEST_WAREHOUSE) $(TEST_WAREHOUSE).wal
	for table in $(RAW_TABLES); do \
		WAREHOUSE_PATH=$(TEST_WAREHOUSE) $(BIN)/python scripts/load_events.py --quiet --table $$table $(SAMPLE_DIR)/$$table.csv; \
	done
	WAREHOUSE_PATH=$(TEST_WAREHOUSE) $(BIN)/dbt build --vars '$(SAMPLE_VARS)'

pytest: install
	$(BIN)/python -m pytest -q tests/python

clean:
	rm -rf target logs warehouse
