"""`trendcart serve`: the HTTP API and the dashboard over one store, the model loaded once (docs/API.md)."""
