# PgBackMan — developer and operator entry points. See README.rst.
#   make test        install what is missing, then run the whole suite on real PostgreSQL
#   make quickstart  a whole small system private to this checkout (.quickstart/): cron and atd,
#                    cluster + catalog + demo node, control, maintenance, alerts, first backup
#   make quickstart-stop  stops what this checkout's quickstart started, removes its crontab file
#   make bench       benchmarks (numbers go to bench/RESULTS.md)

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTEST_ARGS ?=
# Test processes (pytest-xdist): each worker starts its own catalog and node clusters.
TEST_JOBS ?= auto

.PHONY: all deps system-deps venv test test-fast unit integration quickstart quickstart-stop bench lint typecheck clean

all: test

# Debian packages the project needs; installed only when missing (apt-get needs root).
system-deps:
	@bash scripts/install-system-deps.sh

$(VENV)/.installed: setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	$(PIP) install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

deps: system-deps venv

# pytest exit status 5 (no tests collected) is a failure, like any other non-zero status.
test: deps
	$(PY) -m pytest -n $(TEST_JOBS) $(PYTEST_ARGS)

# The suite without the tests marked @pytest.mark.slow (a quick check while developing).
test-fast: deps
	$(PY) -m pytest -n $(TEST_JOBS) -m "not slow" $(PYTEST_ARGS)

unit: venv
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: deps
	$(PY) -m pytest -n $(TEST_JOBS) tests/integration $(PYTEST_ARGS)

typecheck: venv
	$(VENV)/bin/mypy

# Formatting (ruff format, line length 88) and the lint rules of pyproject.toml
# (pyflakes, bugbear, bandit, blind except, unused noqa).
lint: venv
	$(VENV)/bin/ruff format --check pgbackman tests bench scripts bin
	$(VENV)/bin/ruff check pgbackman tests bench scripts bin

quickstart: deps
	@bash scripts/quickstart.sh

quickstart-stop:
	@bash scripts/quickstart.sh stop

bench: deps
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
