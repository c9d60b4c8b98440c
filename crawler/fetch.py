"""fetch_once: one polite GET for `extract URL` (robots.txt checked, honest User-Agent, size-capped)."""

from __future__ import annotations

import urllib.request
from urllib.parse import urljoin

from protego import Protego

from crawler import settings

MAX_BYTES = settings.DOWNLOAD_MAXSIZE
TIMEOUT_S = 20


def fetch_once(url: str, obey_robots: bool = True) -> tuple[int, str | None, bytes]:
    """(status, content type, body). Raises PermissionError when robots.txt disallows the URL."""
    if obey_robots:
        robots_url = urljoin(url, "/robots.txt")
        try:
            status, _, body = _get(robots_url)
            rules = Protego.parse(body.decode("utf-8", "replace")) if status == 200 else None
        except OSError:
            rules = None
        if rules is not None and not rules.can_fetch(url, settings.USER_AGENT):
            raise PermissionError(f"robots.txt of {robots_url} disallows {url}")
    return _get(url)


def _get(url: str) -> tuple[int, str | None, bytes]:
    request = urllib.request.Request(
        url, headers={"User-Agent": settings.USER_AGENT, "Accept-Language": "zh-CN,en;q=0.8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310 - http(s) only, checked by caller
            return response.status, response.headers.get("Content-Type"), response.read(MAX_BYTES)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read(MAX_BYTES)
