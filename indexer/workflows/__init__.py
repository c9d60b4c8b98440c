"""Workflows: what one CLI command (or server request) does, as plain calls with callbacks; no Typer, no Rich.

Modules: `errors` (what a workflow refuses, by kind), `opening` (an existing store, closed after use),
`pages` (one page for `extract`), `ingest` (index JSONL files), `crawl` (crawl-and-index, logged beside
the store), `queries` (search, trending, report), `overview` (`stats`), `demo` (the offline replay),
`scheduled` (the scheduler's crawl job and run), `views` (the output format, tables and lines as plain
strings for a face to render). Import the module you need: each keeps its heavy imports
(Scrapy children, the model) out of the way until called.
"""
