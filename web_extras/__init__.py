"""BeerPi companion web service: history, pages and API."""
