# Assay: `make run` starts the platform, `make test` runs the whole test suite.
#
# Both create .venv (Python 3.11) when it is missing. Installs are recorded by stamp files
# inside .venv, so they run again only when a requirements file changes (or .venv is gone).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
RUNTIME_STAMP := $(VENV)/.installed-requirements
DEV_STAMP := $(VENV)/.installed-requirements-dev

.PHONY: run test lint format bench chromium clean-venv help

help:
	@echo "make run    install, migrate, create the admin user, start web server + worker"
	@echo "make test   install test tools (and Chromium when root), run the whole suite"
	@echo "make lint   ruff format --check and ruff check"
	@echo "make bench  the import -> version -> export pipeline benchmark (1,000,000 rows)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
	touch $@

$(DEV_STAMP): requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -r requirements-dev.txt
	touch $(RUNTIME_STAMP) $@

run: $(RUNTIME_STAMP)
	$(MANAGE) migrate --no-input
	$(MANAGE) assay_bootstrap
	$(MANAGE) assay_serve

# The browser tests drive Debian's Chromium. Installing it needs root; without root (or
# without apt-get) this step does nothing and those tests report what is missing.
chromium:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

test: $(DEV_STAMP) chromium
	$(BIN)/pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(RUNTIME_STAMP)
	$(BIN)/python benchmarks/pipeline.py --rows 1000000

clean-venv:
	rm -rf $(VENV)
