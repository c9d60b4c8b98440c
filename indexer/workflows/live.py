"""`live watch` and `live show`: sample live rooms on a monotonic tick, index every sample, read a live back."""

from __future__ import annotations

import http.client
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from crawler.items import Snapshot, to_json
from crawler.parsers import Page, parse_page
from crawler.times import iso_utc, parse_duration, utc_now
from indexer.embedder import Embedder
from indexer.ingest import Ingestor
from indexer.lives import filled_peak, live_detail, product_snapshots
from indexer.store import Store
from indexer.stores import StoreSpec
from indexer.workflows.errors import BadInput, BadRequest, NothingFound
from indexer.workflows.opening import opened

# A room stops after this many samples in a row that were answered but held no live room (a private room,
# a captcha, a redirect to a home page, malformed JSON): a glitch passes, a room that is gone is let go.
# Network errors never stop a room: they are retried at every tick.
MAX_MISSES = 3
# The shortest tick: one request per room per second at most, whatever --every says.
MIN_EVERY_S = 1.0
# The wall clock differing by more than this from the monotonic tick count is a clock change (NTP, suspend,
# a user): counted and said; sample times stay on the monotonic count, so they never go backwards.
CLOCK_JUMP_S = 5.0
# Tick lags kept for the percentile in the summary (a bounded window: memory stays flat over long watches).
LAG_WINDOW = 1000
# HTTP statuses that say the room is not there: before any sample, the id never existed; after, it is gone.
GONE_STATUSES = (404, 410)
PRIVATE_STATUSES = (401, 403)
# A room URL that answers a redirect is read from its status and Location, not only from the page it leads
# to: a login page means private, a home page means the room is gone; another page is followed (at most
# this many hops) and its room compared with the one watched.
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3
# Path or host words of a login / verification page (Douyin passport, TikTok /login, Google accounts ...).
LOGIN_WORDS = ("login", "signin", "sign-in", "sign_in", "passport", "accounts", "auth", "verify", "sso")
# What each counted failure means, for the summary and docs/CLI.md.
REASONS = {
    "network": "the request failed (connection, timeout): retried at the next tick",
    "http": "an HTTP error status (5xx, 429, ...): retried at the next tick",
    "private": "401/403: the room is private or needs a login",
    "captcha": "the platform answered a captcha or verification page",
    "malformed": "the page or its JSON could not be read",
    "no_live": "the page holds no live room (ended and removed, or a redirect to another page)",
    "moved": "the URL now shows another live room than the one watched (a redirect)",
    "redirect_login": "the room URL redirects (HTTP 3xx) to a login page: the room is private or needs a login",
    "redirect_home": "the room URL redirects (HTTP 3xx) to the site's home page: the room ended or is gone",
    "redirect": "the room URL redirects (HTTP 3xx) to a page with no live room, or redirects too often",
    "invalid": "the live item failed the JSON-form check",
    "not_found": "404/410 before any sample: no such room",
    "gone": "404/410 after samples: the room was removed",
    "robots": "robots.txt disallows the URL",
    "unreadable": "the file cannot be read",
}

# A room's fetch: (status, content type, body) or (status, content type, body, Location), redirects unfollowed.
Fetch = Callable[[str], tuple[Any, ...]]


class Clock(Protocol):
    """The watch's time: monotonic seconds for ticks, the wall clock for sample times, and sleeping."""

    def monotonic(self) -> float: ...

    def wall(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return utc_now()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(seconds, 0.0))


@dataclass
class Room:
    """One watched room: where it is read from and what its samples said so far."""

    source: str
    live_id: str | None = None
    title: str | None = None
    status: str | None = None
    viewers: int | None = None
    peak: int | None = None
    products: int | None = None
    samples: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    misses: int = 0
    done: bool = False
    end_reason: str | None = None
    last_error: str | None = None
    redirected_to: str | None = None  # where the room URL last redirected to (a room followed there)

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    def stop(self, reason: str) -> None:
        self.done, self.end_reason = True, reason

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "id": self.live_id,
            "title": self.title,
            "status": self.status,
            "viewers": self.viewers,
            "peak_viewers": self.peak,
            "products": self.products,
            "samples": self.samples,
            "failed": sum(self.failures.values()),
            "failures": dict(sorted(self.failures.items())),
            "stopped": self.end_reason,
            "last_error": self.last_error,
            "redirected_to": self.redirected_to,
        }


@dataclass
class WatchReport:
    """The whole watch: rooms, ticks, samples stored and failed, tick lags, clock changes, how it stopped."""

    rooms: list[Room]
    every_s: float
    ticks: int = 0
    stored: int = 0
    failed: int = 0
    skipped_ticks: int = 0
    clock_changes: int = 0
    interrupted: bool = False
    stopped_by: str | None = None
    lag_max_s: float = 0.0
    lag_sum_s: float = 0.0
    lags: deque[float] = field(default_factory=lambda: deque(maxlen=LAG_WINDOW))

    def record_lag(self, lag: float) -> None:
        self.lags.append(lag)
        self.lag_sum_s += lag
        self.lag_max_s = max(self.lag_max_s, lag)

    def lag_p95_s(self) -> float:
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0

    def to_json(self) -> dict[str, Any]:
        failures: Counter[str] = Counter()
        for room in self.rooms:
            failures.update(room.failures)
        return {
            "every_s": self.every_s,
            "ticks": self.ticks,
            "stored": self.stored,
            "failed": self.failed,
            "failures": {k: {"count": v, "means": REASONS.get(k, k)} for k, v in sorted(failures.items())},
            "skipped_ticks": self.skipped_ticks,
            "clock_changes": self.clock_changes,
            "interrupted": self.interrupted,
            "stopped_by": self.stopped_by,
            "lag_s": {
                "max": round(self.lag_max_s, 4),
                "mean": round(self.lag_sum_s / self.ticks, 4) if self.ticks else 0.0,
                "p95": round(self.lag_p95_s(), 4),
            },
            "rooms": [room.to_json() for room in self.rooms],
        }


def parse_every(text: str, what: str = "--every") -> float:
    """`60s`, `5m`, `1h30m` (or plain seconds) as seconds; BadRequest otherwise."""
    value = parse_duration(text.strip(), forms=("compact",)) if isinstance(text, str) else None
    if value is None and isinstance(text, str) and text.strip().isdigit():
        value = int(text.strip())
    if value is None or value <= 0:
        raise BadRequest(f"{what} {text!r}: use a number and a unit s/m/h, e.g. 30s, 5m, 3h")
    return float(value)


def progress_line(room: Room) -> str:
    """`room · status · viewers now / peak · products · samples (failed)`: the watch's live progress line."""
    name = room.live_id or room.source
    viewers = "–" if room.viewers is None else f"{room.viewers:,}"
    peak = "–" if room.peak is None else f"{room.peak:,}"
    products = "–" if room.products is None else str(room.products)
    failed = sum(room.failures.values())
    line = f"{name} · {room.status or '?'} · viewers {viewers} / peak {peak} · {products} products"
    line += f" · {room.samples} samples" + (f", {failed} failed ({room.last_error})" if failed else "")
    return line + (f" · stopped: {room.end_reason}" if room.done else "")


class Watch:
    """Samples rooms on ticks of `every_s` (monotonic) and indexes each sample through the Ingestor."""

    def __init__(
        self,
        store: Store,
        sources: Sequence[str],
        every_s: float,
        *,
        for_s: float | None = None,
        samples: int | None = None,
        until_ended: bool = False,
        clock: Clock | None = None,
        embedder: Embedder | None = None,
        fetch: Fetch | None = None,
        on_sample: Callable[[Room], None] | None = None,
        obey_robots: bool = True,
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        if every_s < MIN_EVERY_S:
            raise BadRequest(f"--every must be at least {MIN_EVERY_S:g}s")
        if samples is not None and samples < 1:
            raise BadRequest("--samples must be at least 1")
        if for_s is not None and for_s <= 0:
            raise BadRequest("--for must be longer than zero")
        self.store, self.every_s = store, every_s
        self.for_s, self.samples = for_s, samples
        self.until_ended = until_ended or (for_s is None and samples is None)
        self.clock = clock or SystemClock()
        self.ingestor = Ingestor(store, embedder)
        self.fetch = fetch or (lambda url: _fetch(url, obey_robots))
        self.on_sample = on_sample
        self.after_batch = after_batch  # after each tick's samples are stored: the watches' evaluation
        self.report = WatchReport(rooms=[Room(source=s) for s in dict.fromkeys(sources)], every_s=every_s)
        self._snapshots: list[Snapshot] = []  # the listed products' snapshots of the samples not yet written

    def run(self) -> WatchReport:
        """Tick until --for is over, every room has its --samples, or every room has stopped; Ctrl-C returns
        the report with `interrupted` set (every sample taken so far is stored)."""
        report, clock = self.report, self.clock
        start_mono, start_wall = clock.monotonic(), clock.wall()
        wall_anchor = start_wall  # the wall clock's last known offset from the monotonic count
        tick = 0
        try:
            while True:
                due = start_mono + tick * self.every_s
                now = clock.monotonic()
                if self.for_s is not None and now - start_mono >= self.for_s:
                    report.stopped_by = "for"
                    break
                report.record_lag(max(now - due, 0.0))
                report.ticks += 1
                wall = clock.wall()
                expected = wall_anchor + timedelta(seconds=now - start_mono)
                if abs((wall - expected).total_seconds()) > CLOCK_JUMP_S:
                    wall_anchor = wall - timedelta(seconds=now - start_mono)
                    # Counted; sample times follow a clock set forward, never one set back (they stay on the
                    # monotonic count then), so a room's samples never go backwards in time.
                    report.clock_changes += 1
                    start_wall = max(start_wall, wall - timedelta(seconds=now - start_mono))
                for room in report.rooms:
                    if not room.done:
                        at = start_wall + timedelta(seconds=clock.monotonic() - start_mono)
                        self.sample(room, at)
                self.flush()
                if self.after_batch is not None:
                    self.after_batch()
                if all(room.done for room in report.rooms):
                    report.stopped_by = "samples" if self.samples else "ended"
                    break
                tick += 1
                after = clock.monotonic()
                behind = int((after - start_mono) // self.every_s) + 1
                if behind > tick:  # a tick ran past the next one's time: skip to the next one to come
                    report.skipped_ticks += behind - tick
                    tick = behind
                clock.sleep(start_mono + tick * self.every_s - clock.monotonic())
        except KeyboardInterrupt:
            report.interrupted, report.stopped_by = True, "interrupted"
            self.flush()
        return report

    def flush(self) -> None:
        """Write the queued samples (documents and their snapshots) and the listed products' snapshots."""
        pending, self._snapshots = self._snapshots, []
        self.ingestor.flush()
        if pending:
            self.store.add_snapshots(pending)

    def sample(self, room: Room, at: datetime) -> None:
        """Read one room once; a sample is queued for the store, a failure is counted with its reason."""
        try:
            status, content_type, body, url = self._read(room)
        except PermissionError as exc:
            return self._fail(room, "robots", str(exc), stop=True)
        except FileNotFoundError as exc:
            return self._fail(room, "unreadable", str(exc), stop=room.samples == 0)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            kind = "unreadable" if not room.is_url else "network"
            return self._fail(room, kind, f"{type(exc).__name__}: {exc}")
        if status in GONE_STATUSES:
            return self._fail(room, "gone" if room.samples else "not_found", f"HTTP {status}", stop=True)
        if status in PRIVATE_STATUSES:
            return self._miss(room, "private", f"HTTP {status}")
        if status in REDIRECT_STATUSES:
            return self._miss(room, *redirect_kind(room.source, url, status))
        if status != 200:
            return self._fail(room, "http", f"HTTP {status}")
        result = parse_page(
            Page(url=url, body=body, content_type=content_type, observed_at=at, status=status)
        )
        if result.blocked:
            return self._miss(room, "captcha", result.blocked)
        lives = [item for item in result.items if item.kind == "live"]
        if not lives:
            errors = ", ".join(result.errors) or "no live item"
            kind = "malformed" if any("malformed" in e or "json" in e for e in result.errors) else "no_live"
            return self._miss(room, kind, errors)
        live = next((i for i in lives if i.id == room.live_id), None) if room.live_id else lives[0]
        if live is None:
            via = f" (redirected to {url})" if url != room.source and room.is_url else ""
            return self._miss(room, "moved", f"now {lives[0].id}{via}")
        item = to_json(live)
        item["observed_at"] = iso_utc(at)
        item["metrics"]["peak_viewers"] = filled_peak(item["metrics"], room.peak)
        if not self.ingestor.add(item):
            return self._miss(room, "invalid", self.ingestor.report.errors[-1][1])
        for other in result.items:  # the page's product items (titles, prices) are indexed too
            if other.kind == "product":
                data = to_json(other)
                data["observed_at"] = iso_utc(at)
                self.ingestor.add(data)
        self._snapshots.extend(product_snapshots(item))
        room.live_id, room.title, room.misses = item["id"], item.get("title"), 0
        room.redirected_to = url if room.is_url and url != room.source else None
        room.status = (item.get("live") or {}).get("status")
        room.viewers, room.peak = item["metrics"].get("viewers"), item["metrics"]["peak_viewers"]
        room.products = len(item.get("products") or [])
        room.samples += 1
        self.report.stored += 1
        if room.status == "ended":
            room.stop("ended")
        elif self.samples is not None and room.samples >= self.samples:
            room.stop("samples")
        self._said(room)

    def _read(self, room: Room) -> tuple[int, str | None, bytes, str]:
        """(status, content type, body, the URL answered): a redirect to another page is followed (up to
        MAX_REDIRECTS hops); one to a login or home page, or one hop too many, comes back as the 3xx with
        its target as the URL."""
        if not room.is_url:
            return 200, None, Path(room.source).read_bytes(), Path(room.source).resolve().as_uri()
        url = room.source
        for _ in range(MAX_REDIRECTS + 1):
            answer = tuple(self.fetch(url))
            status, content_type, body = answer[:3]
            location = answer[3] if len(answer) > 3 else None
            if status not in REDIRECT_STATUSES:
                return status, content_type, body, url
            target = urljoin(url, location) if location else url
            if redirect_kind(room.source, target, status)[0] != "redirect" or target == url:
                return status, content_type, body, target
            url = target
        return status, content_type, body, url

    def _fail(self, room: Room, kind: str, message: str, stop: bool = False) -> None:
        room.failures[kind] += 1
        room.last_error = f"{kind}: {message}"
        self.report.failed += 1
        if stop:
            room.stop(kind)
        self._said(room)

    def _miss(self, room: Room, kind: str, message: str) -> None:
        room.misses += 1
        self._fail(room, kind, message, stop=room.misses >= MAX_MISSES)
        if room.done:
            room.end_reason = f"{kind} ({MAX_MISSES} samples in a row)"

    def _said(self, room: Room) -> None:
        if self.on_sample is not None:
            self.on_sample(room)


def redirect_kind(source: str, target: str, status: int) -> tuple[str, str]:
    """Why a room URL's redirect is a miss: (`redirect_login` | `redirect_home` | `redirect`, message)."""
    parts = urlsplit(target)
    words = f"{parts.hostname or ''} {parts.path} {parts.query}".lower()
    message = f"HTTP {status} to {target}"
    if any(word in words for word in LOGIN_WORDS):
        return "redirect_login", message
    if parts.path.strip("/") == "" or (parts.path.rstrip("/") in ("/live", "/home", "/index.html")):
        return "redirect_home", message
    return "redirect", message


def _fetch(url: str, obey_robots: bool) -> tuple[Any, ...]:
    from crawler.fetch import fetch_response

    return tuple(fetch_response(url, obey_robots=obey_robots, follow_redirects=False))


def watch_rooms(
    spec: StoreSpec,
    sources: Sequence[str],
    every: str | float = "60s",
    *,
    for_: str | None = None,
    samples: int | None = None,
    until_ended: bool = False,
    model_name: str | None = None,
    embedder: Embedder | None = None,
    clock: Clock | None = None,
    fetch: Fetch | None = None,
    on_sample: Callable[[Room], None] | None = None,
    obey_robots: bool = True,
    after_run: Callable[[Any], None] | None = None,
    alerts: Any = None,
) -> WatchReport:
    """Watch rooms (URLs, or files re-read each tick) into the store at `spec` (created if missing).
    BadRequest for bad options, BadInput for a file source that does not exist; StoreError from the store.
    The watches are evaluated every few minutes and at the end (BatchEvaluator; `alerts`: an AlertConfig),
    `after_run` getting each evaluation."""
    if not sources:
        raise BadRequest("name at least one room URL or file")
    for source in sources:
        if not source.startswith(("http://", "https://")) and not Path(source).is_file():
            raise BadInput(f"no such file: {source} (a room is an http(s) URL or a saved page)")
    every_s = every if isinstance(every, (int, float)) else parse_every(every)
    for_s = parse_every(for_, "--for") if for_ else None
    from indexer.workflows.watches import BatchEvaluator

    evaluator = BatchEvaluator(spec, config=alerts, model_name=model_name, after_run=after_run)
    with opened(spec, model_name, must_exist=False) as store:
        if embedder is None and model_name is not None:
            embedder = Embedder(model_name)
        watch = Watch(
            store,
            sources,
            float(every_s),
            for_s=for_s,
            samples=samples,
            until_ended=until_ended,
            clock=clock,
            embedder=embedder,
            fetch=fetch,
            on_sample=on_sample,
            obey_robots=obey_robots,
            after_batch=evaluator.tick,
        )
        report = watch.run()
    evaluator.close()
    return report


def show_live(spec: StoreSpec, live_id: str, model_name: str | None = None) -> dict[str, Any]:
    """Everything `live show` prints (lives.live_detail); NothingFound when the store has no such live."""
    with opened(spec, model_name) as store:
        detail = live_detail(store, live_id)
    if detail is None:
        raise NothingFound(f"no live {live_id!r} in the store (ids look like douyin:live:123)")
    return detail


def live_show_lines(detail: dict[str, Any]) -> list[str]:
    """The table view of `live show`: header lines, the viewer sparkline, then samples and products."""
    from indexer.lives import sparkline
    from indexer.workflows.views import cell

    def fmt(value: Any) -> str:
        if value is None:
            return "–"
        return f"{value:,.2f}" if isinstance(value, float) and value < 100 and value % 1 else f"{value:,.0f}"

    stats = detail["stats"]
    lines = [
        f"{cell(detail['title'] or detail['id'])}",
        f"  {detail['id']} · streamer {cell(detail['streamer'] or '–')} · status {detail['status'] or '?'}",
        f"  started {detail['started_at'] or '–'} · ended {detail['ended_at'] or '–'} · {detail['url'] or ''}",
        f"  peak {fmt(stats['peak_viewers'])}"
        + (f" at {stats['peak_at']}" if stats["peak_at"] else f" ({stats['peak_source'] or 'unknown'})")
        + f" · average {fmt(stats['avg_viewers'])} · {fmt(stats['viewer_minutes'])} viewer-minutes"
        + f" · {fmt(stats['minutes_live'])} min live · {stats['samples']} samples",
        f"  viewers {sparkline([s['viewers'] for s in detail['samples']])}",
        "",
        f"  {'time':<20} {'viewers':>10} {'likes':>10} {'total viewers':>14}",
    ]
    for s in detail["samples"]:
        lines.append(f"  {s['at']:<20} {fmt(s['viewers']):>10} {fmt(s['likes']):>10} {fmt(s['views']):>14}")
    if detail["products"]:
        lines += ["", f"  {'product':<40} {'price':>10} {'sales +':>9}  first seen → last seen"]
        for p in detail["products"]:
            price = fmt(p["price_last"]) + (
                f" ({len(p['price_changes'])} changes)" if p["price_changes"] else ""
            )
            lines.append(
                f"  {cell(p['title'] or p['id'], 40):<40} {price:>10} {fmt(p['sales_delta']):>9}  "
                f"{p['first_seen'] or '–'} → {p['last_seen'] or '–'}"
            )
    return lines
