"""The terminal face's shared plumbing and its command groups; `search_cli.py` is the entry point."""
