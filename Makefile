# BeerPi: `make demo` and `make test` are the two commands a user needs; each
# creates its environment on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
PY314 = $(shell ../shared/tools/python3.14 2>/dev/null || echo /opt/py314/usr/bin/python3.14)
PY311 ?= $(shell command -v python3.11 || command -v python3)

VENV := .venv
VENV311 := .venv311
PY := $(VENV)/bin/python

# Each area may add a mk/<area>.mk that appends to these (e.g. the Home
# Assistant test environments), so `make lint` and `make test` cover it.
LINT_TARGETS :=
TEST_TARGETS :=
-include mk/*.mk

.PHONY: help env env311 lint test test-main test-311 vendor check-vendor demo bench clean

help:
	@echo "make demo   - run a simulated BeerPi daemon on 127.0.0.1 and print how to connect"
	@echo "make test   - lint and run every test (creates the environments)"
	@echo "make lint   - ruff, mypy --strict"
	@echo "make bench  - print BeerPi's benchmark table"

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q "uv==$(UV_VERSION)"

# Development environment on Python 3.14 (what current Home Assistant runs).
$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --all-extras --python "$(PY314)"
	touch $@

# Raspberry Pi OS Bookworm ships Python 3.11: the daemon and web service must run there.
$(VENV311)/.synced: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV311) $(UV) sync --frozen --all-extras --python "$(PY311)"
	touch $@

env: $(VENV)/.synced
env311: $(VENV311)/.synced

uv.lock: pyproject.toml | $(UV)
	$(UV) lock --python "$(PY311)"

lint: env $(LINT_TARGETS)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy beerpi_protocol beerpi_guard pi_daemon web_extras

test-main: env
	$(VENV)/bin/pytest -q

# The browser tests exercise the pages' JavaScript, not the interpreter, and the
# benchmark smoke tests the bench scripts: once, on 3.14, is enough for those.
test-311: env311
	$(VENV311)/bin/pytest -q --ignore=tests/browser --ignore=tests/bench -m "not browser"

test: lint test-main test-311 $(TEST_TARGETS)

demo: env
	$(PY) scripts/demo.py

clean:
	rm -rf $(VENV) $(VENV311) $(TOOLS)
