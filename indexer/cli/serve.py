"""`trendcart serve`: the HTTP API and the dashboard over the store, the model loaded once (docs/API.md)."""

from __future__ import annotations

import os
import socket
from typing import Optional

import typer

from indexer.cli.common import fail, spec, state
from indexer.terminal import say
from indexer.workflows.errors import ExitCode


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind (beyond 127.0.0.1: needs a token)."
    ),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port (0: any free one, printed)."),
    token: Optional[str] = typer.Option(
        None,
        "--token",
        envvar="TRENDCART_TOKEN",
        help="Bearer token: writes (watches) always need it, every request does when bound beyond 127.0.0.1.",
    ),
    load_model: bool = typer.Option(
        False, "--load-model", help="Load the model at start-up (default: at the first semantic request)."
    ),
) -> None:
    """Serve the HTTP API (JSON in the CLI's --json shapes) and the dashboard; the model is loaded once.

    Example: trendcart serve --port 8765   (then open http://127.0.0.1:8765/)
    """
    import uvicorn

    from indexer.server.app import create_app
    from indexer.server.config import BindRefused, ModelHolder, ServerConfig, check_bind

    try:
        check_bind(host, token)
    except BindRefused as exc:
        fail(str(exc), ExitCode.USAGE)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    models = ModelHolder(state.model, spec=spec())
    if load_model:
        say("loading the model…")
        models.get()
    config = ServerConfig(spec(), state.model, host, token, models)
    sock = listen(host, port)
    address = sock.getsockname()
    shown = f"[{address[0]}]" if ":" in address[0] else address[0]
    say(
        f"serving {config.spec} at http://{shown}:{address[1]}/ (API: /api/..., /openapi.json; Ctrl-C to stop)"
    )
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", access_log=False))
    server.run(sockets=[sock])


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (0: a free port), bound before the server starts so that its
    address can be printed; a port in use is a usage error (exit 2)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", ExitCode.USAGE)
    return sock
