"""BeerPi daemon: the only part that touches the hardware."""
