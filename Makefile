# Front door: `make demo` runs the main job, `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# --- AJO layout (issue 13): LAYOUT=ajo runs the main job on the platform's own exports of the
# same events (data/sample_ajo, written by `make sample-ajo`), in a warehouse of its own.
LAYOUT ?= flat
ifeq ($(filter $(LAYOUT),flat ajo),)
$(error LAYOUT must be flat or ajo, not '$(LAYOUT)')
endif
ifeq ($(LAYOUT),ajo)
DEFAULT_WAREHOUSE := $(CURDIR)/warehouse/ajo/warehouse.duckdb
else
DEFAULT_WAREHOUSE := $(CURDIR)/warehouse/warehouse.duckdb
endif
export WAREHOUSE_PATH ?= $(DEFAULT_WAREHOUSE)
# The demo's warehouse: the default one, or one named on make's command line (make demo
# WAREHOUSE_PATH=...). An exported WAREHOUSE_PATH is a user's own warehouse (README.md, "Load
# your own events"): the demo never appends the sample to it (raw tables are append-only),
# and it refuses any warehouse that holds events other than the sample (python -m tally.demo).
ifeq ($(origin WAREHOUSE_PATH),environment)
DEMO_WAREHOUSE := $(DEFAULT_WAREHOUSE)
else
DEMO_WAREHOUSE := $(WAREHOUSE_PATH)
endif
DEMO_ENV := WAREHOUSE_PATH=$(DEMO_WAREHOUSE)
SAMPLE_AJO_DIR := data/sample_ajo
# --- end AJO layout
TEST_WAREHOUSE := $(CURDIR)/warehouse/test.duckdb
SAMPLE_DIR := data/sample
# The bundled sample (tally generate --events 5000 --format csv --seed 7 --days 3)
# spans 2026-11-01 to 2026-11-08; its reports are read for these windows.
SAMPLE_REPORT_AS_OF := 2026-11-04 06:00:00
SAMPLE_PERIOD_START := 2026-11-02 00:00:00
SAMPLE_PERIOD_END := 2026-11-06 00:00:00
# golden_sample: the loaded events are the bundled sample, so the golden tests (numbers pinned
# to it) run; a build on anyone else's events leaves it unset and skips them.
# (The AJO sample holds the same events as far as the platform records them, not all of
# them: its golden numbers differ, so LAYOUT=ajo leaves golden_sample unset.)
SAMPLE_VARS := {report_as_of: "$(SAMPLE_REPORT_AS_OF)", period_start: "$(SAMPLE_PERIOD_START)", period_end: "$(SAMPLE_PERIOD_END)", golden_sample: $(if $(filter ajo,$(LAYOUT)),false,true)}
GOLDEN := seeds/golden
# The golden suppression states hold address hashes: the sample is hashed with the
# documented default salt, whatever PII_HASH_SALT a user exported for their own events.
SAMPLE_SALT := PII_HASH_SALT=messaging-warehouse-local-salt
RAW_TABLES := campaigns message_feedback_events message_tracking_events offer_propositions

.PHONY: install demo demo-guard load-sample demo-build build report test lint dbt-test full-check pytest load refresh watch publish snapshot dashboard screenshots golden sample-ajo clean test-fast evaluate \
	install-engines build-spark build-postgres postgres-start postgres-stop test-engines test-engines-parquet

# requirements.txt pins every dependency; the package itself (src/tally, the `tally` command)
# goes in editable, without dependencies of its own, so a code change needs no reinstall.
$(BIN)/.installed: requirements.txt pyproject.toml
	@echo "Installing dbt, DuckDB, Streamlit and the tally command into $(VENV): a few minutes the first time (about 3 to 5, mostly downloads), seconds afterwards."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check --progress-bar on -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

install: $(BIN)/.installed

## Main job: install, load the bundled sample, dbt build (with tests), print the headline report
## (make demo PERIOD="2026-11-02 2026-11-05" adds the period report for any range;
## make demo LAYOUT=ajo does the same from the platform's own exports of the sample).
## It works in the demo warehouse (DEMO_WAREHOUSE above), never in an exported WAREHOUSE_PATH.
demo: install load-sample demo-build
	$(DEMO_ENV) $(BIN)/tally publish
	$(DEMO_ENV) $(BIN)/tally report $(if $(PERIOD),--period $(PERIOD))
	@echo
	@echo "Open the reports in a browser: $(if $(filter environment,$(origin WAREHOUSE_PATH)),WAREHOUSE_PATH=$(DEMO_WAREHOUSE) )make dashboard, then http://127.0.0.1:$(DASHBOARD_PORT)"

# Internal to make demo: the demo warehouse must hold nothing but the bundled sample.
demo-guard: install
	$(BIN)/python -m tally.demo --for demo $(DEMO_WAREHOUSE)

load-sample: demo-guard
ifeq ($(LAYOUT),ajo)
	$(DEMO_ENV) $(BIN)/tally load --quiet --layout ajo --table auto $(SAMPLE_AJO_DIR)/ajo_*
	$(DEMO_ENV) $(BIN)/tally load --quiet --table message_tracking_events $(SAMPLE_AJO_DIR)/message_tracking_events.csv
else
	for table in $(RAW_TABLES); do \
		$(DEMO_ENV) $(BIN)/tally load --quiet --table $$table $(SAMPLE_DIR)/$$table.csv; \
	done
endif

# Internal to make demo: the build pinned to the sample (its report windows, its golden tests).
demo-build: install
	$(DEMO_ENV) $(SAMPLE_SALT) $(BIN)/dbt build --vars '$(SAMPLE_VARS)'

## The hourly full build on YOUR data ($$WAREHOUSE_PATH): every model and test, the live window
## ending now (no sample vars), then publish.
build: install
	$(BIN)/dbt build
	$(BIN)/tally publish

## The headline report; PERIOD="2026-11-02 2026-11-05" adds the period report for that range (UTC, end exclusive).
report: install
	$(BIN)/tally report $(if $(PERIOD),--period $(PERIOD))

## Load your own files: make load TABLE=message_feedback_events FILES="a.parquet b.csv"
## (the platform's exports: make load LAYOUT=ajo TABLE=auto FILES="exports/*.json.gz")
load: install
	$(BIN)/tally load --layout $(LAYOUT) --table $(TABLE) $(FILES)

## Live refresh for a scheduler: make refresh FILES="incoming/*.parquet" (raw table read from each file name)
refresh: install
	$(BIN)/tally refresh $(FILES)

## The reports in a browser, on the published file (after make demo or a refresh).
DASHBOARD_PORT ?= 8501
dashboard: install
	$(BIN)/tally dashboard --port $(DASHBOARD_PORT)

## Screenshots of the dashboard pages for the docs (needs Debian's chromium).
screenshots: install
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q tests/python/test_dashboard.py -k browser

## Live refresh service: load files as they land in LANDING (write, then rename into it), refresh, publish.
LANDING ?= incoming
watch: install
	$(BIN)/tally watch $(LANDING)

## Publish the current marts to warehouse/serving.duckdb (what BI tools open, read-only).
publish: install
	$(BIN)/tally publish

## Analyst snapshot: every mart including fct_messages, into warehouse/analytics.duckdb (read it read-only).
snapshot: install
	$(BIN)/tally publish --include-message-facts --serving warehouse/analytics.duckdb

## Every test: lint, dbt build with all tests (the full checks too) on a fresh test warehouse, pytest.
test: install lint dbt-test pytest

## SQL (sqlfluff) and Python (ruff: lint, and the format check) style; settings in .sqlfluff and pyproject.toml.
lint: install
	mkdir -p warehouse
	WAREHOUSE_PATH=$(CURDIR)/warehouse/lint.duckdb $(BIN)/sqlfluff lint models analyses
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## dbt-project-evaluator v1.3.2 (vendored in evaluate/, with the part of dbt-utils it uses):
## dbt Labs' conventions as checks over this project; not part of build, demo or test.
## Fails when a finding is not in evaluate/seeds/dbt_project_evaluator_exceptions.csv.
EVALUATE_WAREHOUSE := $(CURDIR)/warehouse/evaluate.duckdb
evaluate: install
	mkdir -p warehouse
	rm -f $(EVALUATE_WAREHOUSE) $(EVALUATE_WAREHOUSE).wal
	$(BIN)/dbt deps --quiet --project-dir evaluate
	WAREHOUSE_PATH=$(EVALUATE_WAREHOUSE) $(BIN)/dbt build --no-partial-parse --project-dir evaluate \
		--select package:dbt_project_evaluator package:messaging_warehouse_evaluation

dbt-test: install
	rm -f $(TEST_WAREHOUSE) $(TEST_WAREHOUSE).wal
	for table in $(RAW_TABLES); do \
		WAREHOUSE_PATH=$(TEST_WAREHOUSE) $(BIN)/tally load --quiet --table $$table $(SAMPLE_DIR)/$$table.csv; \
	done
	WAREHOUSE_PATH=$(TEST_WAREHOUSE) $(SAMPLE_SALT) $(BIN)/dbt build --selector full_check --vars '$(SAMPLE_VARS)'

## The scheduled full check on YOUR data ($$WAREHOUSE_PATH, after a build): the tests tagged
## full_check (period reports recomputed over all history against the marts), which the
## hourly build leaves out (selectors.yml). Daily, for example; docs/operations.md.
full-check: install
	$(BIN)/dbt test --selector full_check_tests

pytest: install
	$(BIN)/python -m pytest -q --durations=15 tests/python

## The inner loop (under 3 minutes): unit tests and in-process checks, no dbt builds
## (pytest -m "not slow"; markers in pyproject.toml). make test still runs everything.
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow" tests/python

## Recompute the golden seeds from data/sample with the independent reference implementation.
golden: install
	$(SAMPLE_SALT) $(BIN)/tally golden --raw-dir $(SAMPLE_DIR) --mode all --out $(GOLDEN)/expected_fct_deliveries.csv \
		--suppression-out $(GOLDEN)/expected_fct_address_suppression_states.csv
	$(BIN)/tally golden --raw-dir $(SAMPLE_DIR) --mode live --report-as-of "$(SAMPLE_REPORT_AS_OF)" \
		--out $(GOLDEN)/expected_live_delivery_statistics.csv --breakdowns-dir $(GOLDEN)/live \
		--experiments-out $(GOLDEN)/expected_experiment_results.csv
	$(BIN)/tally golden --raw-dir $(SAMPLE_DIR) --mode period --period-start "$(SAMPLE_PERIOD_START)" \
		--period-end "$(SAMPLE_PERIOD_END)" --out $(GOLDEN)/expected_period_delivery_report.csv --breakdowns-dir $(GOLDEN)/period
	$(BIN)/tally golden --raw-dir $(SAMPLE_DIR) --mode live --report-as-of "$(SAMPLE_REPORT_AS_OF)" \
		--grain channel --out $(GOLDEN)/expected_live_channel_statistics.csv
	$(BIN)/tally golden --raw-dir $(SAMPLE_DIR) --mode period --period-start "$(SAMPLE_PERIOD_START)" \
		--period-end "$(SAMPLE_PERIOD_END)" --grain channel --out $(GOLDEN)/expected_period_channel_report.csv
	mv $(GOLDEN)/live/reasons.csv $(GOLDEN)/expected_live_delivery_reasons.csv
	mv $(GOLDEN)/live/platforms.csv $(GOLDEN)/expected_live_platform_breakdown.csv
	mv $(GOLDEN)/period/top_links.csv $(GOLDEN)/expected_period_top_links.csv
	mv $(GOLDEN)/period/domains.csv $(GOLDEN)/expected_period_domain_statistics.csv
	rm -rf $(GOLDEN)/live $(GOLDEN)/period

## Rewrite data/sample_ajo: the bundled sample's events as the platform's own exports.
sample-ajo: install
	rm -rf $(SAMPLE_AJO_DIR)
	$(BIN)/tally generate --events 5000 --format csv --seed 7 --days 3 --layout ajo --out $(SAMPLE_AJO_DIR)

## ---- Other engines (docs/engines.md) ----
ENGINES_VENV := .venv-engines
ENGINES_BIN := $(ENGINES_VENV)/bin
# Spark reads the raw tables from this Parquet lake (tally load --lake); its
# metastore and table files live in SPARK_WORK_DIR.
export LAKE_PATH ?= $(CURDIR)/warehouse/lake
export SPARK_WORK_DIR ?= $(CURDIR)/warehouse/spark
PG_DIR ?= $(CURDIR)/warehouse/postgres
export DBT_PG_PORT ?= 55432

$(ENGINES_BIN)/.installed: requirements-engines.txt pyproject.toml
	$(PYTHON) -m venv $(ENGINES_VENV)
	$(ENGINES_BIN)/pip install --quiet --disable-pip-version-check -r requirements-engines.txt
	$(ENGINES_BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# Delta Lake's jars from Maven Central (engines-jars.txt: coordinates and SHA-256), where
# profiles.yml's spark.jars finds them; a jar whose sum differs stops the install.
ENGINES_JARS := $(ENGINES_VENV)/jars
$(ENGINES_JARS)/.installed: engines-jars.txt $(ENGINES_BIN)/.installed
	mkdir -p $(ENGINES_JARS)
	grep -v '^#' engines-jars.txt | while read -r artifact sum; do \
		name=$$(echo "$$artifact" | cut -d: -f2)-$$(echo "$$artifact" | cut -d: -f3).jar; \
		mvn --batch-mode --quiet dependency:copy -Dartifact="$$artifact" -DoutputDirectory=$(ENGINES_JARS) \
			-Dmdep.useBaseVersion=true || exit 1; \
		echo "$$sum  $(ENGINES_JARS)/$$name" | sha256sum --check --quiet || exit 1; \
	done
	touch $@

install-engines: $(ENGINES_BIN)/.installed $(ENGINES_JARS)/.installed

## The bundled sample on Spark (local session, Debian's JDK): load it into the lake, dbt build with every test.
build-spark: install-engines
	for table in $(RAW_TABLES); do \
		$(ENGINES_BIN)/tally load --quiet --lake $(LAKE_PATH) --table $$table $(SAMPLE_DIR)/$$table.csv; \
	done
	DBT_TARGET=spark $(ENGINES_BIN)/dbt build --target-path target/spark --vars '$(SAMPLE_VARS)'

## A private PostgreSQL server on 127.0.0.1:$(DBT_PG_PORT) (Debian's postgresql package), data in $(PG_DIR).
postgres-start: install-engines
	$(ENGINES_BIN)/tally postgres start --dir $(PG_DIR) --port $(DBT_PG_PORT)

postgres-stop: install-engines
	$(ENGINES_BIN)/tally postgres stop --dir $(PG_DIR)

## The bundled sample on PostgreSQL: start the local server, load the sample, dbt build with every test.
build-postgres: postgres-start
	for table in $(RAW_TABLES); do \
		$(ENGINES_BIN)/tally load --quiet --postgres --table $$table $(SAMPLE_DIR)/$$table.csv; \
	done
	DBT_TARGET=postgres $(ENGINES_BIN)/dbt build --target-path target/postgres --vars '$(SAMPLE_VARS)'

## Spark and PostgreSQL against DuckDB: every mart equal on the sample and on 100k generated events;
## incremental = full refresh on Spark (tests/engines; CI runs it after make test). Own basetemp: other pytest
## sessions on the machine prune the shared one while these minutes-long builds run.
test-engines: install-engines
	mkdir -p warehouse
	$(ENGINES_BIN)/python -m pytest -q -s -rs --durations=0 -m "not parquet_tables" tests/engines --basetemp=$(CURDIR)/warehouse/pytest-engines

## The engine tests of the alternative Spark table format (spark_file_format: parquet): incremental = full
## refresh with partition rewrites. Not in CI (its 45-minute budget); run it when touching the Parquet path.
test-engines-parquet: install-engines
	mkdir -p warehouse
	$(ENGINES_BIN)/python -m pytest -q -s -rs --durations=0 -m parquet_tables tests/engines --basetemp=$(CURDIR)/warehouse/pytest-engines-parquet

## Removes what the project generates: dbt's target and logs, the test and lint warehouses,
## pytest's and Spark's scratch folders, and the demo warehouses (with their serving file and
## refresh log) when they hold nothing but the bundled sample. Any other warehouse stays
## (warehouse/prod/, the README's own-data warehouse; the lake; the PostgreSQL data). A demo's serving
## file goes with its serving.duckdb.parts/ folder (the Parquet files its views read).
DEMO_WAREHOUSES := $(CURDIR)/warehouse/warehouse.duckdb $(CURDIR)/warehouse/ajo/warehouse.duckdb
clean:
	rm -rf target logs warehouse/pytest-engines warehouse/pytest-engines-parquet warehouse/spark evaluate/target evaluate/logs evaluate/dbt_packages
	rm -f warehouse/test.duckdb warehouse/test.duckdb.wal warehouse/lint.duckdb warehouse/lint.duckdb.wal warehouse/evaluate.duckdb warehouse/evaluate.duckdb.wal
	for demo in $(DEMO_WAREHOUSES); do \
		[ -e "$$demo" ] || continue; \
		if [ -x $(BIN)/python ] && $(BIN)/python -m tally.demo --for clean "$$demo"; then \
			folder=$$(dirname "$$demo"); \
			rm -f "$$demo" "$$demo.wal" "$$demo.refresh.lock" "$$demo.refresh-state.json" "$$folder/warehouse.refresh-log.jsonl" \
				"$$folder/serving.duckdb" "$$folder/serving.duckdb.wal" "$$folder/serving.duckdb.next" "$$folder/analytics.duckdb" \
				"$$folder/analytics.duckdb.next"; \
			rm -rf "$$folder/serving.duckdb.parts" "$$folder/analytics.duckdb.parts"; \
		else \
			echo "kept $$demo"; \
		fi; \
	done
