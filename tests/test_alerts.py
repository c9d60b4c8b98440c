"""Where alerts go: a JSONL file, a webhook (a real local HTTP server), e-mail (a real local SMTP server)."""

from __future__ import annotations

import json
import socket
import threading
import time
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from indexer.alerts import (
    Alert,
    AlertConfigError,
    JsonlSink,
    SmtpSettings,
    SmtpSink,
    WebhookSink,
    config_from_env,
    config_from_options,
    config_from_table,
    deliver,
)

# How long a test waits for a server to see what was sent: generous, a loaded CI machine is slow.
DEADLINE_S = 60.0

ALERTS = [
    Alert(
        kind="breakout",
        key="watch:lips:tiktok:video:c",
        at="2026-11-21T00:00:00Z",
        message="口红 broke out at #1",
    ),
    Alert(
        kind="health",
        key="health:tiktok/tiktok:blocked",
        at="2026-11-21T00:00:00Z",
        message="tiktok: 41 of 50",
    ),
]


class Receiver:
    """A real HTTP server on 127.0.0.1 answering each POST with the next status of `statuses` (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.bodies = list(statuses), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.bodies.append((self.headers["Content-Type"], json.loads(body)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(statuses: list[int] | None = None) -> Receiver:
        made.append(Receiver(statuses or []))
        return made[-1]

    yield make
    for r in made:
        r.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_webhook_posts_json_and_retries_with_backoff(receiver):
    hook = receiver([503, 500])
    waits: list[float] = []
    sink = WebhookSink(hook.url, backoff_s=0.01, sleep=lambda s: (waits.append(s), time.sleep(s)))
    delivery = deliver(ALERTS, [sink])
    assert delivery.failed == 0 and delivery.sinks[0].tries == 3 and waits == [0.01, 0.02]
    assert len(hook.bodies) == 3  # two failures, then the one that counted
    kind, body = hook.bodies[-1]
    assert kind.startswith("application/json")
    assert body["count"] == 2 and body["text"] == "口红 broke out at #1\ntiktok: 41 of 50"
    assert body["alerts"][1]["key"] == "health:tiktok/tiktok:blocked" and body["source"] == "trendcart"
    assert "secret" not in sink.name  # a token in the URL is never printed


def test_a_webhook_4xx_fails_at_once_and_a_dead_one_after_its_tries(receiver):
    hook = receiver([404])
    delivery = deliver(ALERTS, [WebhookSink(hook.url, backoff_s=0.01)])
    assert (
        delivery.failed == 1 and "HTTP 404 after 1 tries" in delivery.sinks[0].error and len(hook.bodies) == 1
    )
    dead = WebhookSink(f"http://127.0.0.1:{free_port()}/", attempts=3, backoff_s=0.01)
    gone = deliver(ALERTS, [dead])
    assert gone.failed == 1 and "after 3 tries" in gone.sinks[0].error


def test_a_failing_sink_never_loses_the_others(tmp_path, receiver):
    hook = receiver()
    out = tmp_path / "deep" / "alerts.jsonl"
    sinks = [
        WebhookSink(f"http://127.0.0.1:{free_port()}/", attempts=2, backoff_s=0.01),
        JsonlSink(tmp_path),  # a folder: cannot be appended to
        JsonlSink(out),
        WebhookSink(hook.url),
    ]
    delivery = deliver(ALERTS, sinks)
    assert delivery.failed == 2 and [s.sent for s in delivery.sinks] == [0, 0, 2, 2]
    assert [json.loads(line)["key"] for line in out.read_text("utf-8").splitlines()] == [
        a.key for a in ALERTS
    ]
    deliver(ALERTS[:1], [JsonlSink(out)])
    assert len(out.read_text("utf-8").splitlines()) == 3  # appended, never rewritten
    assert delivery.to_json()["sinks"][1]["error"].startswith("cannot append to")


def test_email_through_a_real_smtp_server(monkeypatch):
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.mails: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            self.mails.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = SmtpSettings.parse(f"127.0.0.1:{controller.port}", ["me@example.org, you@example.org"])
        delivery = deliver(ALERTS, [SmtpSink(settings)])
        assert delivery.failed == 0, delivery.to_json()
        deadline = time.monotonic() + DEADLINE_S
        while not inbox.mails and time.monotonic() < deadline:
            time.sleep(0.05)
        ((sender, rcpts, content),) = inbox.mails
        assert sender == "trendcart@localhost" and rcpts == ["me@example.org", "you@example.org"]
        mail = message_from_bytes(content)
        assert mail["Subject"].startswith("trendcart:") and "(+1 more)" in str(mail["Subject"])
        text = mail.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n")
        assert "口红 broke out at #1\ntiktok: 41 of 50" in text and '"health:tiktok/tiktok:blocked"' in text
    finally:
        controller.stop()
    closed = deliver(ALERTS, [SmtpSink(settings)])  # the server is gone: counted, not raised
    assert closed.failed == 1 and closed.sinks[0].error.startswith("smtp:127.0.0.1:")


def test_configuration_from_a_table_options_and_the_environment(tmp_path):
    table = {
        "jsonl": "alerts.jsonl",
        "webhook": ["http://127.0.0.1:9/a", "https://hooks.example/b"],
        "smtp": {
            "host": "mail.example",
            "port": 587,
            "to": ["ops@example.org"],
            "starttls": True,
            "user": "u",
        },
    }
    config = config_from_table(table, base=tmp_path)
    assert config.jsonl == [tmp_path / "alerts.jsonl"] and config.smtp.port == 587 and config.smtp.starttls
    assert [s.name for s in config.sinks()][:2] == [
        f"jsonl:{tmp_path / 'alerts.jsonl'}",
        "webhook:http://127.0.0.1:9/a",
    ]
    for bad in (
        {"webhook": "ftp://x"},
        {"smtp": {"host": "h"}},
        {"mail": "x"},
        {"smtp": {"host": "h", "port": "25"}},
    ):
        with pytest.raises(AlertConfigError):
            config_from_table(bad)
    with pytest.raises(AlertConfigError):
        config_from_options(mail_to=["a@b"])
    env = config_from_env(
        {
            "TRENDCART_WEBHOOK": "http://a/1, http://a/2",
            "TRENDCART_SMTP": "mx:2525",
            "TRENDCART_MAIL_TO": "x@y",
        }
    )
    assert env.webhooks == ["http://a/1", "http://a/2"] and (env.smtp.host, env.smtp.port) == ("mx", 2525)
    merged = config.merged(env)
    assert len(merged.webhooks) == 4 and merged.smtp.host == "mx"
