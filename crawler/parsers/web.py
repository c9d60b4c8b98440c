"""Helpers shared by the standards parsers: web native ids from URLs, safe HTML parsing, block-page detection."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import lxml.html
from lxml import etree

from crawler.items import make_id

# Query parameters that only say where a visitor came from; dropped so that a shared link and the
# canonical link give the same id (utm_* from Google Analytics, spm/scm from Alibaba's sites, the
# click ids of Facebook, Google and Microsoft ads, share markers seen on Douyin/TikTok/Bilibili links).
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "msclkid",
        "yclid",
        "dclid",
        "spm",
        "scm",
        "spm_id_from",
        "share_source",
        "share_medium",
        "share_plat",
        "share_from",
        "share_session_id",
        "share_tag",
        "from",
        "ref",
        "ref_src",
        "si",
        "feature",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
    }
)
# Bodies whose first bytes hold this many control characters are binary, not HTML.
BINARY_SNIFF_BYTES = 1024
BINARY_CONTROL_RATIO = 0.1
# Words that mark a captcha or verification page, in a page's <title> or its first visible text.
# Seen on Cloudflare, Akamai, Douyin/TikTok (验证码中间页), Taobao (滑动验证) and Google (unusual traffic).
BLOCK_MARKERS = (
    "captcha",
    "verify you are human",
    "are you a robot",
    "are you human",
    "unusual traffic",
    "access denied",
    "attention required",
    "please verify",
    "robot check",
    "security check",
    "验证码",
    "人机验证",
    "安全验证",
    "滑动验证",
    "请完成验证",
    "访问验证",
    "异常流量",
)
BLOCK_TEXT_CHARS = 2000


def web_native_id(url: str | None) -> str | None:
    """The stable native id of a web page: host (lower case, no `www.`, no default port) + path (no
    trailing `/`) + the query without tracking parameters, sorted; no scheme, no fragment.
    `https://www.Shop.com/p/1/?utm_source=x&b=2&a=1#top` -> `shop.com/p/1?a=1&b=2`."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")
    )
    native = host + (path if path != "/" else "")
    return f"{native}?{urlencode(query)}" if query else native


def web_id(kind: str, url: str | None) -> str | None:
    """`web:KIND:<web_native_id(url)>`, or None when the URL is not an absolute http(s) URL."""
    native = web_native_id(url)
    return make_id("web", kind, native) if native else None


def absolute_url(value: object, base: str) -> str | None:
    """An absolute http(s) URL with a host from a (possibly relative) string; None for anything else,
    `http://[oops` included (urllib raises ValueError on unbalanced IPv6 brackets)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        url = urljoin(base, value.strip())
        parts = urlsplit(url)
        has_host = bool(parts.hostname)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and has_host else None


def looks_binary(body: bytes) -> bool:
    head = body[:BINARY_SNIFF_BYTES]
    if not head:
        return False
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control / len(head) > BINARY_CONTROL_RATIO


def parse_html(text: str) -> etree._Element | None:
    """lxml's forgiving HTML parser on already-decoded text; None when there is no document at all."""
    if not text or not text.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, no_network=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.LxmlError, ValueError):
        return None
    return root


def canonical_url(root: etree._Element | None, page_url: str) -> str:
    """`<link rel=canonical>`, else `og:url`, else the page's own URL."""
    if root is not None:
        for href in root.xpath("//link[translate(@rel,'CANONICAL','canonical')='canonical']/@href"):
            url = absolute_url(href, page_url)
            if url:
                return url
        for content in root.xpath("//meta[@property='og:url']/@content"):
            url = absolute_url(content, page_url)
            if url:
                return url
    return page_url


def block_reason(root: etree._Element | None) -> str | None:
    """'captcha' when the page's title or first text reads like a captcha/verification page."""
    if root is None:
        return None
    title = " ".join(root.xpath("//title//text()"))
    body = root.find("body")
    text = " ".join(body.itertext())[:BLOCK_TEXT_CHARS] if body is not None else ""
    sample = f"{title} {text}".lower()
    return "captcha" if any(marker in sample for marker in BLOCK_MARKERS) else None
