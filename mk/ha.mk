# Home Assistant integration (custom_components/beerpi): its own environments,
# lock files and pytest runs, so the harness's plugins never touch the main suite.
#   .venv-ha      current Home Assistant (newest harness) on Python 3.14
#   .venv-ha-old  the oldest Home Assistant hacs.json claims (2025.4.4) on Python 3.13.0
HA_VENV := .venv-ha
HA_VENV_OLD := .venv-ha-old
HA_LOCK := requirements/ha-current.txt
HA_LOCK_OLD := requirements/ha-oldest.txt
# Inputs of the locks; `make ha-lock` re-resolves them (newest harness release).
# PyTurboJPEG: the camera platform's requirement, which the harness does not install.
HA_REQS := pytest-homeassistant-custom-component PyTurboJPEG==1.8.3 "python-socketio>=5.11,<6" pytest-cov mypy
HA_REQS_OLD := pytest-homeassistant-custom-component==0.13.236 "python-socketio>=5.11,<6" pytest-cov
HA_PYTEST = -c tests/ha/pytest.ini --rootdir . tests/ha
HA_COV := --cov=custom_components/beerpi --cov-config=tests/ha/coveragerc \
	--cov-report=term-missing:skip-covered --cov-fail-under=95
HASSFEST := ../shared/tools/hassfest-2026/run
VENDOR_DIR := custom_components/beerpi/protocol

LINT_TARGETS += lint-ha
TEST_TARGETS += test-ha test-ha-old test-ha-demo

.PHONY: env-ha env-ha-old ha-lock lint-ha test-ha test-ha-old vendor ha-demo env-ha-demo \
	test-ha-demo bench-ha

ha-lock: | $(UV)
	printf '%s\n' $(HA_REQS) | $(UV) pip compile - -q --python-version 3.14.2 -o $(HA_LOCK)
	printf '%s\n' $(HA_REQS_OLD) | $(UV) pip compile - -q --python-version 3.13.0 -o $(HA_LOCK_OLD)

$(HA_VENV)/.synced: $(HA_LOCK) | $(UV)
	@echo "Home Assistant env on $(PY314)"
	$(UV) venv -q --allow-existing --python "$(PY314)" $(HA_VENV)
	$(UV) pip sync -q --python $(HA_VENV)/bin/python $(HA_LOCK)
	touch $@

$(HA_VENV_OLD)/.synced: $(HA_LOCK_OLD) | $(UV)
	@echo "Home Assistant (oldest) env on $(PY313)"
	$(UV) venv -q --allow-existing --python "$(PY313)" $(HA_VENV_OLD)
	$(UV) pip sync -q --python $(HA_VENV_OLD)/bin/python $(HA_LOCK_OLD)
	touch $@

env-ha: $(HA_VENV)/.synced
	@$(HA_VENV)/bin/python -c 'import sys; print(sys.executable, sys.version.split()[0])'

env-ha-old: $(HA_VENV_OLD)/.synced
	@$(HA_VENV_OLD)/bin/python -c 'import sys; print(sys.executable, sys.version.split()[0])'

# HACS installs only custom_components/beerpi/, so it carries a verbatim copy of
# beerpi_protocol; tests/test_vendored_protocol.py fails when the two drift. Not
# copied: what only the daemon and the web service use (gravity.py: a steadiness
# rule the integration never asks), so no untested module ships in the integration.
NOT_VENDORED := gravity.py
vendor:
	rm -rf $(VENDOR_DIR)
	mkdir -p $(VENDOR_DIR)
	cp $(filter-out $(addprefix beerpi_protocol/,$(NOT_VENDORED)),$(wildcard beerpi_protocol/*.py)) $(VENDOR_DIR)/

# hassfest runs ruff itself, hence the main env's bin on PATH.
lint-ha: env env-ha
	$(VENV)/bin/ruff check custom_components/beerpi tests/ha tests/test_vendored_protocol.py
	$(VENV)/bin/ruff format --check custom_components/beerpi tests/ha tests/test_vendored_protocol.py
	$(HA_VENV)/bin/mypy --config-file tests/ha/mypy.ini custom_components/beerpi tests/ha
	@if [ -x $(HASSFEST) ]; then \
		PATH="$(CURDIR)/$(VENV)/bin:$$PATH" HASSFEST_PYTHON=$(CURDIR)/$(HA_VENV)/bin/python \
			$(HASSFEST) custom_components/beerpi; \
	else \
		echo "hassfest skipped: $(HASSFEST) is not here (it comes with ../shared/tools)"; \
	fi

# The live tests run the daemon from the main env (see tests/ha/conftest.py). The harness
# brings pytest-xdist; coverage is combined across the workers.
test-ha: env env-ha
	$(HA_VENV)/bin/pytest $(HA_PYTEST) $(HA_COV) $(XDIST)

test-ha-old: env env-ha-old
	$(HA_VENV_OLD)/bin/pytest $(HA_PYTEST) $(HA_COV) $(XDIST)

# make ha-demo: a real Home Assistant (from .venv-ha) with BeerPi set up on a simulated
# daemon, on http://127.0.0.1:8123. The frontend and a few default integrations' packages go
# to .venv-ha/demo-deps (--no-deps, see requirements/ha-demo.txt), not into the test env.
HA_DEMO_DEPS := $(HA_VENV)/demo-deps
HA_DEMO_LOCK := requirements/ha-demo.txt

$(HA_DEMO_DEPS)/.synced: $(HA_DEMO_LOCK) $(HA_VENV)/.synced | $(UV)
	rm -rf $(HA_DEMO_DEPS)
	$(UV) pip install -q --python $(HA_VENV)/bin/python --no-deps --target $(HA_DEMO_DEPS) \
		-r $(HA_DEMO_LOCK)
	touch $@

env-ha-demo: env env-ha $(HA_DEMO_DEPS)/.synced

ha-demo: env-ha-demo
	$(HA_VENV)/bin/python -m scripts.ha_demo $(HA_DEMO_ARGS)

# Starts the demo (on free ports) and reads the entities through the REST API. The main
# env's pytest, not the harness's: the harness blocks sockets and would need a hass fixture.
test-ha-demo: env-ha-demo
	$(VENV)/bin/pytest -c tests/ha_demo/pytest.ini --rootdir . tests/ha_demo/check_ha_demo.py

# Probe change -> Home Assistant state change, in the demo's real Home Assistant.
# make bench runs it too (bench/ha_latency.py re-runs itself with .venv-ha's Python).
bench-ha: env-ha-demo
	$(HA_VENV)/bin/python -m bench.ha_latency $(BENCH_HA_ARGS)
