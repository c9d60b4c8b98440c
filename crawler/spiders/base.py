"""TrendcartSpider: start URLs from -a urls / -a urls_file, scoped link following, every failure counted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import ConnectionLost, DNSLookupError, TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived
from twisted.web.http import _DataLoss

from crawler.normalize import parse_datetime, utc_now
from crawler.parsers import get_parser, parse_page
from crawler.parsers.base import Page, Parser, ParseResult

STATS_PREFIX = "trendcart"


def read_start_urls(urls: str | None, urls_file: str | None) -> list[str]:
    """Comma-separated `urls` plus one URL per line of `urls_file` (blank lines and # comments ignored)."""
    found: list[str] = []
    if urls:
        found.extend(u.strip() for u in urls.split(",") if u.strip())
    if urls_file:
        path = Path(urls_file)
        if not path.is_file():
            raise ValueError(f"urls_file not found: {urls_file}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"urls_file {urls_file}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from None
        except OSError as exc:
            raise ValueError(f"urls_file {urls_file}: cannot be read: {exc.strerror or exc}") from None
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                found.append(line)
    bad = [u for u in found if not _is_start_url(u)]
    if bad:
        shown = bad[0] if len(bad[0]) <= 200 else bad[0][:200] + "..."
        raise ValueError(f"not a URL: {shown!r} (expected http:// or https://)")
    return list(dict.fromkeys(found))


def _is_start_url(url: str) -> bool:
    """An http(s) URL with a host, or a file: URL; never one urlparse cannot read (`http://[::1`)."""
    try:
        parts = urlparse(url)
        parts.port  # noqa: B018 - reading it validates the port
    except ValueError:
        return False
    if parts.scheme == "file":
        return True
    return parts.scheme in ("http", "https") and bool(parts.hostname) and url.isprintable()


def host_of(url: str) -> str:
    host = (urlparse(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


class TrendcartSpider(scrapy.Spider):
    """Base for every trendcart spider. Subclasses set `name` and usually `parser_name`.

    `default_scope` (hosts followed besides the start URLs') comes from the parser's `domains`, the one
    list of a platform's domains; a spider never repeats it.
    """

    parser_name: str | None = None  # None: the registry chooses by URL, then by content
    stats_platform: str = "web"  # the stats key used for blocked pages when the parser cannot tell
    default_scope: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.parser_name:
            return
        if "default_scope" in vars(cls):
            raise TypeError(f"{cls.__name__}: the scope comes from parser {cls.parser_name!r}'s domains")
        cls.default_scope = tuple(get_parser(cls.parser_name).domains)
        if getattr(get_parser(cls.parser_name), "platform", None):
            # A platform's pages (TikTok, Douyin, YouTube, ...) never redirect by <meta http-equiv=refresh>,
            # and Scrapy's check decodes the whole body to read its head (1.2-1.7 ms a 500 KB page); the
            # generic spiders (jsonld, sitemap, feed) read any site and keep it. -s METAREFRESH_ENABLED=True wins.
            cls.custom_settings = {"METAREFRESH_ENABLED": False, **(cls.custom_settings or {})}

    def __init__(
        self,
        urls: str | None = None,
        urls_file: str | None = None,
        scope: str | None = None,
        follow: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.start_urls = read_start_urls(urls, urls_file) or list(getattr(self, "default_start_urls", []))
        if not self.start_urls:
            raise ValueError(
                f"spider {self.name!r} needs start URLs: -a urls=URL[,URL...] or -a urls_file=PATH"
            )
        if scope:
            self.scope = {s.strip().lower().removeprefix("www.") for s in scope.split(",") if s.strip()}
        else:
            self.scope = {host_of(u) for u in self.start_urls} | set(self.default_scope)
        self.follow_depth = int(follow) if follow is not None else None
        self.parser = get_parser(self.parser_name) if self.parser_name else None
        self.link_extractor = LinkExtractor(unique=True)

    # -- scope -------------------------------------------------------------------------------------
    def in_scope(self, url: str) -> bool:
        host = host_of(url)
        return any(host == d or host.endswith("." + d) for d in self.scope)

    def max_follow_depth(self) -> int:
        if self.follow_depth is not None:
            return self.follow_depth
        return self.crawler.settings.getint("TRENDCART_FOLLOW_DEPTH", 0)

    # -- requests ----------------------------------------------------------------------------------
    async def start(self) -> Any:  # Scrapy >= 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterable[scrapy.Request]:
        for url in self.start_urls:
            yield self.make_request(url)

    def make_request(self, url: str, **meta: Any) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse, errback=self.on_error, meta=meta, dont_filter=False)

    # -- responses ---------------------------------------------------------------------------------
    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        yield from self.emit(response, self.parse_response(response))

    def emit(self, response: Response, result: ParseResult) -> Iterator[Any]:
        """The items of one parsed response, then requests for its in-scope links (and page links by depth)."""
        yield from result.items
        for link in result.links:
            if self.in_scope(link):
                yield self.make_request(response.urljoin(link))
            else:
                self.inc("out_of_scope")
        if response.meta.get("depth", 0) < self.max_follow_depth() and hasattr(response, "text"):
            for link in self.link_extractor.extract_links(response):
                if self.in_scope(link.url):
                    yield self.make_request(link.url)

    def parse_response(self, response: Response, parser: Parser | None = None) -> ParseResult:
        """Run `parser` (default: the spider's own, else the registry's choice) on one response, counting what happened."""
        page = self.page_of(response)
        parser = parser or self.parser
        result = parse_page(page, parser)
        name = result.parser or "none"
        self.inc(f"pages/{name}")
        for reason in result.errors:
            self.inc(f"parse_error/{reason}")
            self.logger.warning("parse error on %s: %s", response.url, reason)
        if result.blocked:
            platform = getattr(parser, "platform", None) or self._platform_of(result) or self.stats_platform
            self.inc(f"blocked/{platform}")
            self.logger.warning("blocked page (%s) at %s: %s", platform, response.url, result.blocked)
        elif not result.items and not result.links and not result.errors:
            self.inc(f"empty_page/{name}")
        return result

    def page_of(self, response: Response) -> Page:
        """The parser's view of a response, its body decoded once: Scrapy's `response.text` (decoded already
        when a middleware or `urljoin` looked at it, and kept on the response for them) is the page's text
        when the page would decode its body with the same codec (Page.adopt_text), else the page decodes."""
        content_type = response.headers.get(b"Content-Type")
        page = Page(
            url=response.url,
            body=response.body,
            content_type=content_type.decode("latin-1") if content_type else None,
            status=response.status,
            observed_at=self.now(),
        )
        # Only a declared charset: an undeclared body Scrapy would guess (charset_normalizer), Page reads as UTF-8.
        if isinstance(response, TextResponse) and page.declared_encoding() is not None:
            page.adopt_text(response.text, response.encoding)
        return page

    def _platform_of(self, result: ParseResult) -> str | None:
        from crawler.parsers import get_parser as _get

        try:
            return getattr(_get(result.parser), "platform", None) if result.parser else None
        except KeyError:
            return None

    def now(self) -> datetime:
        """The observation time: the real clock, or TRENDCART_NOW (ISO) for replays such as the demo."""
        fixed = self.crawler.settings.get("TRENDCART_NOW") if getattr(self, "crawler", None) else None
        if fixed:
            parsed = parse_datetime(fixed)
            if parsed:
                return datetime.fromisoformat(parsed.replace("Z", "+00:00"))
        return utc_now()

    def on_error(self, failure: Failure) -> None:
        reason = classify_failure(failure)
        self.inc(f"request_failed/{reason}")
        request = getattr(failure, "request", None)
        self.logger.warning("request failed (%s): %s", reason, request.url if request else failure)

    def inc(self, key: str, count: int = 1) -> None:
        self.crawler.stats.inc_value(f"{STATS_PREFIX}/{key}", count)


def _scrapy_errors(*names: str) -> tuple[type[BaseException], ...]:
    """Scrapy >= 2.13 wraps Twisted's download errors in its own exceptions; older versions lack them."""
    from scrapy import exceptions

    return tuple(getattr(exceptions, name) for name in names if hasattr(exceptions, name))


_TIMEOUT_ERRORS = (TimeoutError, TCPTimedOutError, *_scrapy_errors("DownloadTimeoutError"))
_DNS_ERRORS = (DNSLookupError, *_scrapy_errors("CannotResolveHostError"))
_DATA_LOSS_ERRORS = _scrapy_errors("ResponseDataLossError")
_CONNECTION_ERRORS = (
    ConnectionLost,
    ResponseFailed,
    ResponseNeverReceived,
    *_scrapy_errors("DownloadFailedError", "DownloadConnectionRefusedError"),
)


def classify_failure(failure: Failure) -> str:
    """A short reason for a failed request: http_404, timeout, dns, data_loss, connection_lost,
    too_large, robots_disallowed, ..."""
    message = str(failure.value).lower()
    if "download_maxsize" in message or "max size" in message or "maxsize" in message:
        return "too_large"  # body (or its decompressed form) beyond DOWNLOAD_MAXSIZE: a bomb or not a page
    if failure.check(HttpError):
        return f"http_{failure.value.response.status}"
    if failure.check(*_TIMEOUT_ERRORS):
        return "timeout"
    if failure.check(*_DNS_ERRORS):
        return "dns"
    if (_DATA_LOSS_ERRORS and failure.check(*_DATA_LOSS_ERRORS)) or (
        failure.check(ResponseFailed)
        and any(r.check(_DataLoss) for r in failure.value.reasons if isinstance(r, Failure))
    ):
        return "data_loss"  # the body stopped short of its Content-Length (a truncated response)
    if failure.check(*_CONNECTION_ERRORS):
        return "connection_lost"
    if failure.check(IgnoreRequest):
        return "robots_disallowed" if "robots" in message else "ignored"
    return type(failure.value).__name__
