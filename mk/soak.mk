# Load soak of the web service (issues 8, 18): one beerpi-web holding 100 simulated
# daemons (dial-out, a reading per probe every 2 s) and 500 browsers on /live for
# 2 minutes of steady state; prints readings taken vs stored, push latency (connect
# storm and steady state apart), the service's RSS and CPU and the load average.
# SOAK_ARGS="--redis" runs it on two service processes sharing a redis-server;
# SOAK_ARGS="--daemons 50 --seconds 60" for a smaller run. `make test` runs the
# --quick variants (tests/reliability/test_web_soak_quick.py).
SOAK_ARGS ?=

.PHONY: soak

soak: env
	$(VENV)/bin/python -m scripts.soak $(SOAK_ARGS)
