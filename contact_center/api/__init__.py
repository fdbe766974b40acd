"""The REST API.  Every route is declared once, with its request and response types,
so the handlers and the OpenAPI document at /openapi.json cannot disagree."""
