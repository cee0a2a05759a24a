"""BeerPi daemon: the only part that touches the hardware."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("beerpi")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
