"""The JSON API, one RouteTableDef per module (see web_extras/openapi.json)."""
