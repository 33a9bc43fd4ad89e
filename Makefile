# Every target wraps plain commands that also work by hand from the project
# folder inside the venv (. .venv/bin/activate):
#   python scripts/check_inputs.py seeds
#   dbt build --exclude-resource-type unit_test --vars '{"as_of_date": "2026-06-15"}'
#   python scripts/export_csv.py --output-dir output
#   python scripts/deliver.py --output-dir output --s3-uri s3://BUCKET/FOLDER

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
VARS ?= {}
OUTPUT_DIR ?= output
TARGET ?= duckdb
INPUT_DIR ?= seeds
# The test build uses its own database and dbt target folder, so that it
# never touches the database or run results of `make run`.
TEST_VARS := {"as_of_date": "2026-06-15"}
TEST_DB := data/test.duckdb
TEST_TARGET_PATH := target/make-test
# The docs site is generated into its own dbt target folder, so that it never
# replaces the run results the export checks.
DOCS_TARGET_PATH := target/docs
DOCS_PORT ?= 8080

export DO_NOT_TRACK := 1

.PHONY: help install inputs build run deliver docs browser lint format test test-dbt test-python test-postgres test-postgres-inner clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(BIN)/.installed ## Create .venv and install the pinned dependencies

# With raw_data_dir in VARS, check_inputs checks that folder (what dbt reads).
inputs: install ## Check the five input files (UTF-8, header, no ragged rows)
	$(BIN)/python scripts/check_inputs.py $(INPUT_DIR) --vars '$(VARS)'

# check_database: a DuckDB file held by another process is named in one line
# (dbt itself would stop with a traceback).
# The production build: every model and data test; the unit tests (YAML, on
# fixed inputs) prove the SQL, not the night's data, so they run in make test.
build: inputs ## The production dbt build: seeds, models and every data test (unit tests: make test)
	mkdir -p data
	$(BIN)/python scripts/check_database.py --target $(TARGET)
	$(BIN)/dbt build --target $(TARGET) --exclude-resource-type unit_test --vars '$(VARS)'

run: build ## Build, then export the files and report.html to OUTPUT_DIR (default output/)
	$(BIN)/python scripts/export_csv.py --output-dir $(OUTPUT_DIR) --target $(TARGET)
	@echo "run: the sync report is $(abspath $(OUTPUT_DIR))/report.html"

# Not part of `make run`: sending is a decision (README "Running it every night").
# AWS settings come from the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, ...).
deliver: install ## Put OUTPUT_DIR's sync file into Handshake's S3 folder (S3_URI=s3://BUCKET/FOLDER)
	@if [ -z "$(S3_URI)" ]; then echo "deliver: set S3_URI=s3://BUCKET/FOLDER" >&2; exit 2; fi
	$(BIN)/python scripts/deliver.py --output-dir $(OUTPUT_DIR) --s3-uri '$(S3_URI)' --target $(TARGET) $(DELIVER_ARGS)

docs: install ## Generate the dbt docs site and serve it on http://127.0.0.1:DOCS_PORT (8080)
	mkdir -p data
	$(BIN)/dbt docs generate --target $(TARGET) --target-path $(DOCS_TARGET_PATH) --vars '$(VARS)'
	@echo "docs: serving $(DOCS_TARGET_PATH) on http://127.0.0.1:$(DOCS_PORT)/ (Ctrl-C stops it)"
	$(BIN)/dbt docs serve --target $(TARGET) --target-path $(DOCS_TARGET_PATH) \
		--host 127.0.0.1 --port $(DOCS_PORT) --no-browser

# The browser tests need Debian's chromium; installed here when missing and
# we are root (apt-get), else the target says what to install.
browser: ## Make sure headless Chromium is installed for the browser tests
	@if command -v chromium >/dev/null 2>&1; then \
		echo "browser: $$(command -v chromium)"; \
	elif [ -n "$$CHROMIUM" ] && [ -x "$$CHROMIUM" ]; then \
		echo "browser: $$CHROMIUM"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "browser: installing Debian's chromium package"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	else \
		echo "browser: chromium is missing; as root run: apt-get update && apt-get install -y chromium" >&2; \
		echo "         (or point CHROMIUM at a Chromium or Chrome executable)" >&2; \
		exit 1; \
	fi

lint: install ## sqlfluff on models, tests and macros; ruff on the Python
	$(BIN)/sqlfluff lint models tests macros --processes 2
	$(BIN)/ruff check scripts pytests benchmarks
	$(BIN)/ruff format --check scripts pytests benchmarks

format: install ## sqlfluff fix and ruff format
	$(BIN)/sqlfluff fix models tests macros
	$(BIN)/ruff format scripts pytests benchmarks

test-dbt: install ## dbt build of the sample data with every data and unit test
	mkdir -p data
	$(BIN)/python scripts/check_inputs.py seeds
	HANDSHAKE_DUCKDB_PATH=$(TEST_DB) $(BIN)/dbt build --target duckdb \
		--target-path $(TEST_TARGET_PATH) --vars '$(TEST_VARS)'

test-python: install browser ## The pytest suite, browser tests included (end-to-end runs in temporary copies)
	HANDSHAKE_REQUIRE_BROWSER=1 $(BIN)/pytest pytests

test: lint test-dbt test-python ## Lint, dbt build with every test, and pytest (with the browser tests)

test-postgres: install ## The dbt build and end-to-end suite on a throwaway PostgreSQL 15 server
	bash scripts/with_postgres.sh $(MAKE) --no-print-directory test-postgres-inner

test-postgres-inner:
	HANDSHAKE_PG_SCHEMA=make_test $(BIN)/dbt build --target postgres \
		--target-path target/make-test-postgres --vars '$(TEST_VARS)'
	HANDSHAKE_TEST_TARGET=postgres $(BIN)/pytest pytests -m "e2e or engines"

# Spark (README "Running on Spark"): dbt-spark's local session in a venv of
# its own, .venv-spark, so that the default install stays small (PySpark is
# about 630 MB). Needs Java 17 (or later).
SPARK_VENV := .venv-spark
SPARK_BIN := $(SPARK_VENV)/bin

.PHONY: java test-spark

$(SPARK_BIN)/.installed: requirements.txt requirements-spark.txt
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_BIN)/python -m pip install --quiet --upgrade pip
	$(SPARK_BIN)/python -m pip install --quiet -r requirements.txt -r requirements-spark.txt
	touch $@

# Installed here when missing and we are root (apt-get), as `browser` does.
java: ## Make sure Java 17 (or later) is installed, which Spark needs
	@java="$${JAVA_HOME:+$$JAVA_HOME/bin/}java"; \
	if ! command -v "$$java" >/dev/null 2>&1 && [ -z "$$JAVA_HOME" ] \
		&& [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "java: installing Debian's openjdk-17-jre-headless"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless; \
	fi; \
	if ! command -v "$$java" >/dev/null 2>&1; then \
		echo "java: Spark needs Java 17 and no $$java command was found;" >&2; \
		echo "      on Debian/Ubuntu, as root: apt-get install -y openjdk-17-jre-headless" >&2; \
		exit 1; \
	fi; \
	version=$$("$$java" -version 2>&1 | sed -nE '1s/.*version "(1\.)?([0-9]+).*/\2/p'); \
	if [ -z "$$version" ] || [ "$$version" -lt 17 ]; then \
		echo "java: Spark needs Java 17; found: $$("$$java" -version 2>&1 | head -1)" >&2; \
		echo "      install openjdk-17-jre-headless and put it first on PATH (or set JAVA_HOME)" >&2; \
		exit 1; \
	fi; \
	echo "java: Java $$version ($$(command -v "$$java"))"

# One pytest under one Spark Thrift server (scripts/with_spark_thrift.sh,
# 127.0.0.1, stopped and removed afterwards), everything in temporary copies
# of the project: pytests/test_spark.py (the sample built once per Spark
# method, local session and Thrift, with every data test and the unit tests
# on the Thrift server, each exported, every file compared with DuckDB's
# byte for byte; the export's connection errors) and the end-to-end suite
# (pytests/test_end_to_end.py) on the Thrift server, its engine-independent
# tests left to make test. CI sets HANDSHAKE_REQUIRE_SPARK=1: a Spark that
# cannot run fails instead of skipping. SPARK_TEST_TARGET=spark runs the
# end-to-end suite on the local session instead (much slower).
SPARK_TEST_TARGET ?= spark_thrift
test-spark: java $(SPARK_BIN)/.installed ## dbt build with every test, the end-to-end suite and DuckDB's files on Spark, local session and Thrift server (own venv .venv-spark)
	SPARK_VENV=$(SPARK_VENV) bash scripts/with_spark_thrift.sh \
		env HANDSHAKE_TEST_TARGET=$(SPARK_TEST_TARGET) \
		$(SPARK_BIN)/pytest pytests -m "spark or e2e" -p no:cacheprovider --durations=12

# The DuckDB file also holds the history across runs (student_state_history,
# sync_run_history, build_log, export_log): clean deletes it with the file.
clean: ## Remove dbt artefacts and the local databases, with the run history they hold (not output/)
	@echo "clean: deleting data/*.duckdb and .spark, and with them the history of every earlier run (README \"Running it every night\")"
	rm -rf target logs dbt_packages data/*.duckdb data/*.duckdb.wal .spark
