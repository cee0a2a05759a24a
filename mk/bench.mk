# Benchmarks (bench/): `make bench` runs every bench/<name>.py, prints one table and
# writes bench/results/summary.{json,md}. BENCH_ARGS=--strict makes a missed goal fail;
# BENCH_ARGS="--only latency,footprint" runs a subset. history runs on .venv311 (env311),
# where secantus installs, so the table has its MongoDB-protocol rows; ha_latency needs
# .venv-ha with the demo's packages (env-ha-demo, built first: several minutes the
# first time, not counted in the benchmarks' own 15-minute budget).
BENCH_ARGS ?=

VENV_PI := .venv-pi

.PHONY: bench env-pi

# A Raspberry Pi install: Python 3.11 with the daemon extra only (no web service
# libraries), so the footprint benchmark measures what a Pi would run.
$(VENV_PI)/.synced: $(UV) pyproject.toml uv.lock
	UV_PROJECT_ENVIRONMENT=$(VENV_PI) $(UV) sync -q --frozen --extra daemon --no-default-groups --python "$(PY311)"
	touch $@

env-pi: $(VENV_PI)/.synced

bench: env env311 env-pi env-ha-demo
	$(VENV)/bin/python -m bench.run_all $(BENCH_ARGS)
