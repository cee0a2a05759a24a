"""Guards shared by the two servers, the daemon and the web service.

Kept apart from ``beerpi_protocol`` on purpose: that package is copied into the
Home Assistant integration, which is only ever a client and needs none of this.
Each module has one job: token strength and secrets from files or the
environment (``secrets_``), the browser ``Origin`` allowlist (``origins``), the
cap and deadline on connections that have not authenticated (``preauth``), a
rate limit on the log lines a starved ``accept()`` writes (``acceptlog``), and
reading a config file and wording its problems (``config_file``).
"""
