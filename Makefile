# BeerPi: `make demo` and `make test` are the two commands a user needs; each
# creates its environment on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
TOOLS := .tools
UV := $(TOOLS)/bin/uv
UV_VERSION := 0.13.9
# Interpreters are found on PATH, through uv, or with ../shared/tools on our build machines
# (scripts/find-python says how to get one that is missing). Current Home Assistant needs
# 3.14.2+; Raspberry Pi OS Bookworm has 3.11. Override with e.g. `make PY314=/usr/bin/python3.14`.
find-python = $(or $(shell scripts/find-python $(1)),$(error no interpreter for this target (find-python's line above says how to get one)))
PY314 ?= $(call find-python,3.14 2)
PY313 ?= $(call find-python,3.13)
PY311 ?= $(call find-python,3.11)

VENV := .venv
VENV311 := .venv311
PY := $(VENV)/bin/python

# Each area may add a mk/<area>.mk that appends to these (e.g. the Home
# Assistant test environments), so `make lint` and `make test` cover it.
LINT_TARGETS :=
TEST_TARGETS :=
-include mk/*.mk

.PHONY: help env env311 lint test test-main test-311 demo dist clean fresh-clone-check

help:
	@echo "make demo     - a simulated BeerPi daemon and the web service on 127.0.0.1 (pages on"
	@echo "                http://127.0.0.1:8080/); prints how to connect"
	@echo "make test     - lint and run every test suite (creates the environments)"
	@echo "make lint     - ruff, mypy --strict, hassfest (skipped with a note when absent)"
	@echo "make ha-demo  - a real Home Assistant on http://127.0.0.1:8123 with BeerPi set up"
	@echo "make bench    - run the benchmarks and print their table (several minutes)"
	@echo "make soak     - load test: one web service, 100 daemons, 500 browsers on /live (SOAK_ARGS=--redis: two)"
	@echo "make fresh-clone-check - a clone without ../shared: help, demo, lint and the main suite"
	@echo "make vendor   - copy beerpi_protocol/ into the integration (HACS installs only that)"
	@echo "make dist     - build the wheel and sdist into dist/ (to install on a Pi)"
	@echo "make clean    - remove every environment and build output"

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
	$(VENV)/bin/mypy beerpi_protocol beerpi_guard pi_daemon web_extras beerpi_devtools

# Up to two pytest workers (one per core), each taking a whole file at a time (a
# module's daemon starts once); `make test XDIST=` runs serially. The few tests that
# time the watchdog and the link's faults to within a second run alone afterwards.
XDIST ?= -n auto --maxprocesses 2 --dist loadfile

test-main: env
	$(VENV)/bin/pytest -q $(XDIST) -m "not realtime"
	$(VENV)/bin/pytest -q -m realtime

# The browser tests exercise the pages' JavaScript, not the interpreter, and the
# benchmark smoke tests the bench scripts, as do the control tests that run days of
# simulated fermentation through the bench's scenario harness (a third of this run's
# time): once, on 3.14, is enough for those. The control unit and safety tests still
# run here.
# tests/install builds venvs on its own interpreter (3.11 when present), whatever runs pytest.
test-311: env311
	$(VENV311)/bin/pytest -q $(XDIST) --ignore=tests/browser --ignore=tests/bench \
		--ignore=tests/install -m "not browser and not scenario_harness and not realtime"
	$(VENV311)/bin/pytest -q -m realtime

test: lint test-main test-311 $(TEST_TARGETS)

demo: env
	$(PY) -m scripts.demo $(DEMO_ARGS)

# What a newcomer's machine does (no ../shared): 10-20 min, not part of make test.
fresh-clone-check:
	scripts/fresh-clone-check

# A wheel to copy to a Pi (pip install 'beerpi-X.whl[daemon]'); tests/install builds
# one with DIST=<a temporary directory>.
DIST ?= dist
dist: $(UV)
	$(UV) build -q --out-dir $(DIST)

clean:
	rm -rf .venv .venv311 .venv-pi .venv-ha .venv-ha-old $(TOOLS) dist build demo-data
