"""BeerPi daemon: the only part that touches the hardware."""

# The same as [project] version in pyproject.toml (tests/daemon/test_version.py checks it):
# a constant costs nothing at start, where importlib.metadata cost ~0.8 MiB and a scan
# of every installed distribution.
__version__ = "0.1.0"
