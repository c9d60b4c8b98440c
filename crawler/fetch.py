"""fetch_once: one polite GET for `extract URL` (robots.txt checked, honest User-Agent, size-capped)."""

from __future__ import annotations

import urllib.request
from typing import NamedTuple
from urllib.parse import urljoin

from protego import Protego

from crawler import settings

MAX_BYTES = settings.DOWNLOAD_MAXSIZE
TIMEOUT_S = 20


class Fetched(NamedTuple):
    """One answer: status, content type, body, and the Location header (a redirect not followed)."""

    status: int
    content_type: str | None
    body: bytes
    location: str | None = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # urllib calls it with (req, fp, code, msg, headers, newurl)
        return None  # the 3xx comes back as an HTTPError with its Location


# Built once (an opener per request costs about a millisecond): following redirects, and not following.
_OPENERS = {True: urllib.request.build_opener(), False: urllib.request.build_opener(_NoRedirect)}


def fetch_once(url: str, obey_robots: bool = True) -> tuple[int, str | None, bytes]:
    """(status, content type, body). Raises PermissionError when robots.txt disallows the URL."""
    return fetch_response(url, obey_robots)[:3]


def fetch_response(url: str, obey_robots: bool = True, follow_redirects: bool = True) -> Fetched:
    """fetch_once with the Location header; `follow_redirects=False` returns a 3xx as it is (live watch
    tells a room that redirects to a login or home page from the status, not from the page)."""
    if obey_robots:
        robots_url = urljoin(url, "/robots.txt")
        try:
            status, _, body = _get(robots_url)[:3]
            rules = Protego.parse(body.decode("utf-8", "replace")) if status == 200 else None
        except OSError:
            rules = None
        if rules is not None and not rules.can_fetch(url, settings.USER_AGENT):
            raise PermissionError(f"robots.txt of {robots_url} disallows {url}")
    return _get(url, follow_redirects)


def _get(url: str, follow_redirects: bool = True) -> Fetched:
    request = urllib.request.Request(
        url, headers={"User-Agent": settings.USER_AGENT, "Accept-Language": "zh-CN,en;q=0.8"}
    )
    try:
        with _OPENERS[follow_redirects].open(request, timeout=TIMEOUT_S) as response:
            return Fetched(response.status, response.headers.get("Content-Type"), response.read(MAX_BYTES))
    except urllib.error.HTTPError as exc:
        headers = exc.headers
        return Fetched(exc.code, headers.get("Content-Type"), exc.read(MAX_BYTES), headers.get("Location"))
