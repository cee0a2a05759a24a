# Benchmarks (bench/): `make bench` runs every bench/<name>.py, prints one table and
# writes bench/results/summary.{json,md}. BENCH_ARGS=--strict makes a missed goal fail;
# BENCH_ARGS="--only latency,footprint" runs a subset.
BENCH_ARGS ?=

.PHONY: bench

bench: env
	$(VENV)/bin/python -m bench.run_all $(BENCH_ARGS)
