# meter-personas: every target creates the environment it needs from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
UI_PORT ?= 3000
RUN := $(UV) run --frozen --no-sync
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: help env env-spark demo test test-fast ui bench bench-engines engine-parity lint clean

help:
	@echo "make demo   - set up, then materialize every asset on the built-in synthetic data"
	@echo "make test   - set up, then run the test suite"
	@echo "make ui     - set up, then start the Dagster UI (webserver + daemon) on 127.0.0.1:3000"
	@echo "make bench  - the whole graph at LCL scale vs the bare DuckDB scan (BENCH_ARGS=\"--fraction 0.1\")"
	@echo "make bench-engines - the clean stage on DuckDB and on Spark side by side (needs Java; BENCH_ENGINES_ARGS)"
	@echo "make engine-parity - the whole graph on DuckDB and on Spark over the real sample, everything stored compared (needs Java; PARITY_ARGS)"
	@echo "make env-spark - add the optional spark extra (pyspark, sqlglot) to .venv (METER_ENGINE=spark; needs Java 17+)"
	@echo "make lint   - ruff"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# SYNC_EXTRAS="--extra spark" (what .ci/run and env-spark pass) adds the optional Spark engine.
# --inexact: a re-sync after a lock change (make test, bench, ...) keeps an extra installed before.
SYNC_EXTRAS ?=
$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --inexact $(SYNC_EXTRAS) --python $(PYTHON)
	@touch $@

env: $(VENV)/.synced

env-spark: $(UV)
	$(UV) sync --frozen --extra spark --python $(PYTHON)
	@touch $(VENV)/.synced

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

# METER_ENGINE=spark: the demo installs the optional spark extra first (it still needs Java 17+).
DEMO_ENV := $(if $(filter spark,$(METER_ENGINE)),env-spark,env)
demo: $(DEMO_ENV) $(DAGSTER_HOME)/dagster.yaml
	$(RUN) python -m pipelines.tooling.demo

test: env
	$(RUN) pytest $(PYTEST_ARGS)

# The developer's loop: no whole-graph, real-sample, Spark, webserver or browser tests.
test-fast: env
	$(RUN) pytest -m "not slow and not real_data and not spark and not webserver and not browser"

# dg dev runs the webserver and the daemon (and their code servers). It starts in $(DAGSTER_HOME):
# the instance config is $(DAGSTER_HOME)/dagster.yaml (a dagster.yaml in the working folder would
# be ignored with a warning). exec: Ctrl-C / SIGTERM reach dg dev itself, which stops its services
# within seconds (no `uv run` wrapper in between).
ui: env $(DAGSTER_HOME)/dagster.yaml
	cd "$(DAGSTER_HOME)" && exec "$(CURDIR)/$(VENV)/bin/dg" dev -w "$(CURDIR)/workspace.yaml" -h 127.0.0.1 -p $(UI_PORT)

bench: env
	$(RUN) python -m pipelines.tooling.bench $(BENCH_ARGS)

bench-engines: env-spark
	$(RUN) python -m pipelines.tooling.engine_bench $(BENCH_ENGINES_ARGS)

# Both engines over the whole real sample (or PARITY_ARGS="--source DIR --first YYYY-MM-01 --last YYYY-MM-01");
# exit status 1 on any difference; JSON report in bench-results/parity-<timestamp>.json.
PARITY_ARGS ?= --source ../shared/data/lcl --first 2011-11-01 --last 2014-02-01
engine-parity: env-spark
	$(RUN) python -m pipelines.tooling.engine_parity $(PARITY_ARGS)

lint: env
	$(RUN) ruff check .
	$(RUN) ruff format --check .

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache data/*.duckdb reports/
