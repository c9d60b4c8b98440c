"""Alerts and where they go: an append-only JSONL file, webhooks (HTTP POST, retried), e-mail (SMTP); docs/ALERTS.md."""

from __future__ import annotations

import json
import os
import smtplib
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Protocol

# Alert kinds: a saved watch's breakout (indexer.watches) and a crawl-health rise (indexer.health).
KINDS = ("breakout", "health")
# A webhook gets this many tries in all, waiting BACKOFF_S, then twice that, ... between them; a receiver
# that is down for a few seconds (a restart) still gets the alert, one that is gone costs ~3.5 s at most.
WEBHOOK_ATTEMPTS = 4
WEBHOOK_BACKOFF_S = 0.5
# Per request: a receiver that accepts the connection and never answers must not hold a crawl for long.
WEBHOOK_TIMEOUT_S = 10.0
SMTP_TIMEOUT_S = 20.0
DEFAULT_SMTP_PORT = 25
DEFAULT_MAIL_FROM = "trendcart@localhost"
# The password of an SMTP login is never written in a file or an option: it comes from this variable.
SMTP_PASSWORD_ENV = "TRENDCART_SMTP_PASSWORD"
# Sinks from the environment, for commands that take no alert options (crawl, live watch).
ENV_JSONL, ENV_WEBHOOK, ENV_SMTP, ENV_MAIL_TO, ENV_MAIL_FROM = (
    "TRENDCART_ALERT_JSONL",
    "TRENDCART_WEBHOOK",
    "TRENDCART_SMTP",
    "TRENDCART_MAIL_TO",
    "TRENDCART_MAIL_FROM",
)
# What a webhook's JSON and a mail's subject say they come from.
SOURCE = "trendcart"


class AlertConfigError(ValueError):
    """A bad [alerts] table or alert option (a webhook that is not http(s), SMTP without a recipient)."""


class SinkError(Exception):
    """One sink could not deliver (its reason in the message); the other sinks still deliver."""


@dataclass
class Alert:
    """One thing worth telling: `message` says it with its numbers, `detail` holds them (docs/ALERTS.md)."""

    kind: str  # one of KINDS
    key: str  # what it is about, stable across runs: "watch:<name>:<row id>", "health:<platform>/<spider>:<rate>"
    at: str  # ISO 8601 UTC: when it was raised
    message: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "at": self.at,
            "message": self.message,
            "detail": self.detail,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Alert:
        return cls(
            kind=str(data["kind"]),
            key=str(data["key"]),
            at=str(data["at"]),
            message=str(data["message"]),
            detail=dict(data.get("detail") or {}),
        )


class Sink(Protocol):
    """Where alerts go. `send` delivers a batch or raises SinkError with the reason."""

    name: str

    def send(self, alerts: Sequence[Alert]) -> None: ...


class JsonlSink:
    """Appends one JSON line per alert (Alert.to_json) to a file, created with its folder when missing."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.name = f"jsonl:{self.path}"

    def send(self, alerts: Sequence[Alert]) -> None:
        text = "".join(json.dumps(a.to_json(), ensure_ascii=False, sort_keys=True) + "\n" for a in alerts)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise SinkError(f"cannot append to {self.path}: {exc}") from None


def webhook_body(alerts: Sequence[Alert]) -> dict[str, Any]:
    """The JSON a webhook receives: `text` (the messages, one a line: what Slack- and Mattermost-style
    receivers show), `source`, `count` and `alerts` (Alert.to_json each)."""
    return {
        "source": SOURCE,
        "text": "\n".join(a.message for a in alerts),
        "count": len(alerts),
        "alerts": [a.to_json() for a in alerts],
    }


class WebhookSink:
    """POSTs webhook_body() as JSON to a URL; a connection error, a timeout, 429 or 5xx is retried with
    exponential backoff (WEBHOOK_ATTEMPTS tries), another 4xx fails at once."""

    def __init__(
        self,
        url: str,
        attempts: int = WEBHOOK_ATTEMPTS,
        backoff_s: float = WEBHOOK_BACKOFF_S,
        timeout_s: float = WEBHOOK_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise AlertConfigError(f"a webhook is an http(s) URL, got {url!r}")
        self.url, self.attempts, self.backoff_s, self.timeout_s, self.sleep = (
            url,
            attempts,
            backoff_s,
            timeout_s,
            sleep,
        )
        self.name = f"webhook:{url.split('?')[0]}"  # a token in the query string is not printed
        self.tries = 0  # requests made by the last send (for the delivery report)

    def send(self, alerts: Sequence[Alert]) -> None:
        body = json.dumps(webhook_body(alerts), ensure_ascii=False).encode("utf-8")
        self.tries = 0
        reason = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
            self.tries += 1
            request = urllib.request.Request(
                self.url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": SOURCE},
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                    response.read()
                return
            except urllib.error.HTTPError as exc:
                reason = f"HTTP {exc.code}"
                if exc.code != 429 and exc.code < 500:
                    break
            except (urllib.error.URLError, OSError) as exc:
                reason = str(getattr(exc, "reason", exc))
        raise SinkError(f"{self.name}: {reason} after {self.tries} tries")


@dataclass
class SmtpSettings:
    """An SMTP server and the message's envelope; the password comes from SMTP_PASSWORD_ENV."""

    host: str
    to: list[str]
    port: int = DEFAULT_SMTP_PORT
    sender: str = DEFAULT_MAIL_FROM
    starttls: bool = False
    user: str | None = None

    @classmethod
    def parse(cls, server: str, to: Sequence[str], sender: str | None = None, **more: Any) -> SmtpSettings:
        """`HOST[:PORT]` and the recipients (each may hold several, comma-separated)."""
        host, _, port = server.strip().rpartition(":") if ":" in server else (server.strip(), "", "")
        if not host or (port and not port.isdigit()):
            raise AlertConfigError(f"an SMTP server is HOST or HOST:PORT, got {server!r}")
        recipients = [r.strip() for item in to for r in str(item).split(",") if r.strip()]
        if not recipients:
            raise AlertConfigError("e-mail alerts need a recipient (--mail-to, or `to` in [alerts.smtp])")
        return cls(
            host=host,
            port=int(port) if port else DEFAULT_SMTP_PORT,
            to=recipients,
            sender=sender or DEFAULT_MAIL_FROM,
            **more,
        )


def mail_subject(alerts: Sequence[Alert]) -> str:
    first = alerts[0].message if alerts else ""
    more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
    return f"{SOURCE}: {first[:120]}{more}"


class SmtpSink:
    """One plain-text e-mail per batch: the messages, then the alerts as JSON."""

    def __init__(self, settings: SmtpSettings, environ: Mapping[str, str] = os.environ) -> None:
        self.settings = settings
        self.password = environ.get(SMTP_PASSWORD_ENV) or None
        self.name = f"smtp:{settings.host}:{settings.port}"

    def send(self, alerts: Sequence[Alert]) -> None:
        s = self.settings
        mail = EmailMessage()
        mail["Subject"] = mail_subject(alerts)
        mail["From"] = s.sender
        mail["To"] = ", ".join(s.to)
        mail.set_content(
            "\n".join(a.message for a in alerts)
            + "\n\n-- the alerts as JSON (docs/ALERTS.md) --\n"
            + json.dumps([a.to_json() for a in alerts], ensure_ascii=False, indent=2)
            + "\n"
        )
        try:
            with smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT_S) as client:
                if s.starttls:
                    client.starttls()
                if s.user:
                    client.login(s.user, self.password or "")
                client.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise SinkError(f"{self.name}: {exc}") from None


@dataclass
class SinkOutcome:
    """What one sink did with one batch."""

    sink: str
    sent: int = 0
    error: str | None = None
    tries: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"sink": self.sink, "sent": self.sent, "error": self.error, "tries": self.tries}


@dataclass
class Delivery:
    """The outcome of delivering a batch to every sink: `failed` counts the sinks that could not."""

    alerts: int = 0
    sinks: list[SinkOutcome] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(1 for s in self.sinks if s.error)

    def to_json(self) -> dict[str, Any]:
        return {"alerts": self.alerts, "failed": self.failed, "sinks": [s.to_json() for s in self.sinks]}


def deliver(alerts: Sequence[Alert], sinks: Sequence[Sink]) -> Delivery:
    """Give the batch to every sink, each on its own: a failing sink is recorded in the Delivery (never
    raised), and the others still deliver."""
    delivery = Delivery(alerts=len(alerts))
    if not alerts:
        return delivery
    for sink in sinks:
        outcome = SinkOutcome(sink=sink.name)
        try:
            sink.send(alerts)
            outcome.sent = len(alerts)
        except Exception as exc:  # noqa: BLE001 - one sink's failure, whatever it is, is its own
            outcome.error = str(exc) if isinstance(exc, SinkError) else f"{type(exc).__name__}: {exc}"
        outcome.tries = getattr(sink, "tries", 1) or 1
        delivery.sinks.append(outcome)
    return delivery


@dataclass
class AlertConfig:
    """The sinks to use: from a schedule file's [alerts] table, options, and the environment, merged."""

    jsonl: list[Path] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    smtp: SmtpSettings | None = None

    def sinks(self, environ: Mapping[str, str] = os.environ) -> list[Sink]:
        out: list[Sink] = [JsonlSink(p) for p in dict.fromkeys(self.jsonl)]
        out += [WebhookSink(u) for u in dict.fromkeys(self.webhooks)]
        if self.smtp is not None:
            out.append(SmtpSink(self.smtp, environ))
        return out

    def merged(self, other: AlertConfig) -> AlertConfig:
        return AlertConfig(
            jsonl=[*self.jsonl, *other.jsonl],
            webhooks=[*self.webhooks, *other.webhooks],
            smtp=other.smtp or self.smtp,
        )

    def to_json(self) -> dict[str, Any]:
        smtp = self.smtp
        return {
            "jsonl": [str(p) for p in self.jsonl],
            "webhooks": [u.split("?")[0] for u in self.webhooks],
            "smtp": None if smtp is None else {"host": smtp.host, "port": smtp.port, "to": smtp.to},
        }


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        raise AlertConfigError(f"[alerts] `{what}` must be a string or a list of strings")
    return [v.strip() for v in items]


def config_from_table(table: Mapping[str, Any] | None, base: Path | None = None) -> AlertConfig:
    """An [alerts] table: `jsonl` (path, relative to the file), `webhook` (URL or list), and [alerts.smtp]
    with `host`, `port`, `to`, `from`, `starttls`, `user` (docs/SCHEDULE.md "Alerts")."""
    if not table:
        return AlertConfig()
    if not isinstance(table, Mapping):
        raise AlertConfigError("[alerts] must be a table")
    known = {"jsonl", "webhook", "smtp"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise AlertConfigError(
            f"[alerts] has unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    jsonl = [Path(p).expanduser() for p in _strings(table.get("jsonl"), "jsonl")]
    if base is not None:
        jsonl = [p if p.is_absolute() else base / p for p in jsonl]
    webhooks = _strings(table.get("webhook"), "webhook")
    for url in webhooks:
        WebhookSink(url)  # checks the URL
    smtp = None
    raw = table.get("smtp")
    if raw is not None:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("host"), str):
            raise AlertConfigError("[alerts.smtp] needs `host` (a string)")
        port = raw.get("port", DEFAULT_SMTP_PORT)
        if not isinstance(port, int) or isinstance(port, bool):
            raise AlertConfigError("[alerts.smtp] `port` must be a number")
        smtp = SmtpSettings.parse(
            f"{raw['host']}:{port}",
            _strings(raw.get("to"), "smtp.to"),
            raw.get("from"),
            starttls=bool(raw.get("starttls", False)),
            user=raw.get("user"),
        )
    return AlertConfig(jsonl=jsonl, webhooks=webhooks, smtp=smtp)


def config_from_options(
    jsonl: Sequence[str | Path] = (),
    webhooks: Sequence[str] = (),
    smtp: str | None = None,
    mail_to: Sequence[str] = (),
    mail_from: str | None = None,
) -> AlertConfig:
    """The sinks named by options (--alert-jsonl, --webhook, --smtp HOST[:PORT] with --mail-to)."""
    for url in webhooks:
        WebhookSink(url)
    if mail_to and not smtp:
        raise AlertConfigError("--mail-to needs --smtp HOST[:PORT]")
    return AlertConfig(
        jsonl=[Path(p).expanduser() for p in jsonl],
        webhooks=list(webhooks),
        smtp=SmtpSettings.parse(smtp, mail_to, mail_from) if smtp else None,
    )


def config_from_env(environ: Mapping[str, str] = os.environ) -> AlertConfig:
    """TRENDCART_ALERT_JSONL, TRENDCART_WEBHOOK (comma-separated), TRENDCART_SMTP with TRENDCART_MAIL_TO."""
    split = lambda name: [v.strip() for v in (environ.get(name) or "").split(",") if v.strip()]  # noqa: E731
    return config_from_options(
        jsonl=split(ENV_JSONL),
        webhooks=split(ENV_WEBHOOK),
        smtp=(environ.get(ENV_SMTP) or "").strip() or None,
        mail_to=split(ENV_MAIL_TO),
        mail_from=(environ.get(ENV_MAIL_FROM) or "").strip() or None,
    )


def load_alert_config(path: str | Path) -> AlertConfig:
    """The [alerts] table of a TOML file (a schedule file), relative paths relative to the file; an empty
    AlertConfig without one. AlertConfigError for an unreadable file or a bad table."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise AlertConfigError(f"cannot read the [alerts] of {path}: {exc}") from None
    return config_from_table(data.get("alerts"), base=path.parent)


# -- the alerts section of reports (indexer.reports) ----------------------------------------------------
def markdown_section(alerts: Sequence[Mapping[str, Any]]) -> list[str]:
    """`## Alerts`: the alerts raised in the report's window, newest first (Alert.to_json each)."""
    from indexer.safetext import markdown_text

    if not alerts:
        return []
    lines = ["## Alerts", "", "| at | kind | alert |", "|---|---|---|"]
    for alert in alerts:
        cells = (alert.get("at"), alert.get("kind"), alert.get("message"))
        lines.append("| " + " | ".join(markdown_text(c or "") for c in cells) + " |")
    return [*lines, ""]


def html_section(alerts: Sequence[Mapping[str, Any]]) -> list[str]:
    """The same as an HTML table; every string escaped (messages carry scraped titles)."""
    from html import escape

    if not alerts:
        return []
    rows = "".join(
        f"<tr><td>{escape(str(a.get('at') or ''))}</td><td>{escape(str(a.get('kind') or ''))}</td>"
        f"<td>{escape(str(a.get('message') or ''))}</td></tr>"
        for a in alerts
    )
    return ["<h2>Alerts</h2>", f"<table><tr><th>at</th><th>kind</th><th>alert</th></tr>{rows}</table>"]
