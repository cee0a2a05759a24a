# Load soak of the web service (issue 8): one beerpi-web holding 100 simulated
# daemons (dial-out, 1 reading/s each) and 200 browsers on /live for 2 minutes;
# prints readings taken vs stored, push latency and the service's RSS.
# SOAK_ARGS="--daemons 50 --seconds 60" for a smaller run. `make test` runs
# the --quick variant (tests/reliability/test_web_soak_quick.py).
SOAK_ARGS ?=

.PHONY: soak

soak: env
	$(VENV)/bin/python scripts/soak.py $(SOAK_ARGS)
