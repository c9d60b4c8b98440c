"""Golden tests for the standards parsers (jsonld, sitemap, feed): saved page in, expected JSON out."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from crawler.parsers import choose_parser, parse_page
from crawler.parsers.base import Page
from crawler.parsers.sitemap import MAX_SITEMAP_BYTES
from crawler.parsers.web import absolute_url, web_native_id
from tests.golden import FIXED_OBSERVED_AT, GoldenCase, check_golden, run_case

STANDARDS = Path(__file__).parent / "fixtures" / "standards"

CASES = [
    GoldenCase(STANDARDS / "vimeo-videoobject.html", "https://vimeo.com/311983548", "jsonld"),
    GoldenCase(
        STANDARDS / "video-products-graph.html", "https://haowu.example/video/lipstick-fall", "jsonld"
    ),
    GoldenCase(STANDARDS / "live-broadcasts.html", "https://shoplive.example/schedule", "jsonld"),
    GoldenCase(STANDARDS / "product-page-video.html", "https://boots.example/products/trailpro-2", "jsonld"),
    GoldenCase(STANDARDS / "legacy-itemlist.html", "https://blendtube.example/watch/x200", "jsonld"),
    GoldenCase(STANDARDS / "malformed-jsonld.html", "https://broken.example/v/1", "jsonld"),
    GoldenCase(STANDARDS / "microdata-video.html", "https://tidy.example/videos/fold-shirt", "jsonld"),
    GoldenCase(STANDARDS / "opengraph-video.html", "https://clips.example/c/abc123?utm_source=x", "jsonld"),
    GoldenCase(STANDARDS / "captcha.html", "https://shop.example/item/1", "jsonld"),
    GoldenCase(STANDARDS / "video-sitemap.xml", "https://www.grill.example/sitemap-videos.xml", "sitemap"),
    GoldenCase(STANDARDS / "sitemap-index.xml", "https://www.grill.example/sitemap_index.xml", "sitemap"),
    GoldenCase(
        STANDARDS / "youtube-channel.xml",
        "https://www.youtube.com/feeds/videos.xml?channel_id=UCxHaoWuChannel0000000aa",
        "feed",
    ),
    GoldenCase(
        STANDARDS / "youtube-playlist.xml",
        "https://www.youtube.com/feeds/videos.xml?playlist_id=PLgiftguide2026",
        "feed",
    ),
    GoldenCase(STANDARDS / "rss2.xml", "https://gadgetclips.example/feed.rss", "feed"),
    GoldenCase(STANDARDS / "atom.xml", "https://cook.example/atom.xml", "feed"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case: GoldenCase) -> None:
    check_golden(case)


# -- properties the golden files encode, asserted directly so a careless --update cannot lose them ----


def items_of(name: str, url: str, parser: str) -> dict:
    return {item["id"]: item for item in run_case(GoldenCase(STANDARDS / name, url, parser))["items"]}


def test_real_vimeo_capture_reads_video_and_author_followers():
    video = items_of("vimeo-videoobject.html", "https://vimeo.com/311983548", "jsonld")[
        "web:video:vimeo.com/311983548"
    ]
    assert video["title"] == "Vimeo Best of the Year 2018: Winners"
    assert video["duration_s"] == 44 and video["published_at"] == "2019-01-17T21:34:21Z"
    assert video["creator"]["name"] == "Vimeo Curation" and video["creator"]["followers"] == 12613
    assert '"Darma"' in video["description"]  # HTML entities inside JSON-LD are decoded
    assert video["metrics"]["views"] is None  # the capture carries no view counter: unknown, not 0


def test_graph_links_products_both_ways_and_reads_every_counter():
    items = items_of("video-products-graph.html", "https://haowu.example/video/lipstick-fall", "jsonld")
    video = items["web:video:haowu.example/video/lipstick-fall"]
    assert video["metrics"] == {
        "views": 120000,
        "likes": 3400,
        "comments": 120,
        "shares": 12000,
        "collects": 60,
        "viewers": None,
        "peak_viewers": None,
        "sales": None,
    }
    assert {p["id"] for p in video["products"]} == {
        "web:product:haowu.example/p/88",
        "web:product:haowu.example/p/99",
    }
    assert video["creator"]["handle"] == "xiaomei"
    assert "faq" not in video["hashtags"] and {"口红推荐", "好物分享", "口红"} <= set(video["hashtags"])
    kit = items["web:product:haowu.example/p/88"]
    assert (kit["price"], kit["price_max"], kit["currency"], kit["shop"]) == (39.0, 59.0, "CNY", "润唇坊")
    assert kit["featured_in"] == [video["id"]]
    assert items["web:product:haowu.example/p/99"]["shop"] == "美妆旗舰店"


def test_live_status_from_dates_against_observed_time():
    items = items_of("live-broadcasts.html", "https://shoplive.example/schedule", "jsonld")
    status = {i["id"]: (i["kind"], (i["live"] or {}).get("status")) for i in items.values()}
    assert status == {
        "web:live:shoplive.example/live/101": ("live", "live"),
        "web:live:shoplive.example/live/100": ("live", "ended"),
        "web:live:shoplive.example/live/102": ("live", "scheduled"),
        "web:video:shoplive.example/video/7": ("video", None),
    }


def test_product_page_embedding_a_video():
    items = items_of("product-page-video.html", "https://boots.example/products/trailpro-2", "jsonld")
    video, product = (
        items["web:video:boots.example/products/trailpro-2"],
        items["web:product:boots.example/products/trailpro-2"],
    )
    assert product["featured_in"] == [video["id"]]
    assert (product["price"], product["price_max"], product["currency"], product["shop"]) == (
        129.99,
        149.0,
        "USD",
        "Boots Example Store",
    )
    assert video["products"][0]["id"] == product["id"] and video["metrics"]["views"] == 4521


def test_malformed_blocks_are_counted_and_absurd_numbers_dropped():
    out = run_case(GoldenCase(STANDARDS / "malformed-jsonld.html", "https://broken.example/v/1", "jsonld"))
    assert out["errors"] == ["jsonld/malformed_json", "jsonld/malformed_json"]
    [video] = out["items"]
    assert video["title"] == "The good block survives"
    assert (
        video["metrics"]["views"] is None
        and video["metrics"]["likes"] is None
        and video["metrics"]["comments"] is None
    )


def test_fallbacks_only_without_json_ld():
    micro = items_of("microdata-video.html", "https://tidy.example/videos/fold-shirt", "jsonld")
    video = micro["web:video:tidy.example/videos/fold-shirt"]
    assert video["title"] == "How to fold a shirt in 2 seconds"  # microdata beats OpenGraph
    assert video["products"][0]["currency"] == "GBP" and video["metrics"]["views"] == 98765
    og = items_of("opengraph-video.html", "https://clips.example/c/abc123", "jsonld")[
        "web:video:clips.example/c/abc123"
    ]
    assert og["duration_s"] == 754 and og["hashtags"] == ["food", "travel", "streetfood"]


def test_captcha_page_is_blocked_not_empty():
    out = run_case(GoldenCase(STANDARDS / "captcha.html", "https://shop.example/item/1", "jsonld"))
    assert out["items"] == [] and out["blocked"] == "captcha"


def test_video_sitemap_fields_live_and_pages():
    out = run_case(
        GoldenCase(STANDARDS / "video-sitemap.xml", "https://www.grill.example/sitemap-videos.xml", "sitemap")
    )
    items = {i["id"]: i for i in out["items"]}
    steak = items["web:video:grill.example/videos/some_video_landing_page.html"]
    assert steak["metrics"]["views"] == 12345 and steak["duration_s"] == 600
    assert steak["published_at"] == "2026-11-05T11:20:30Z" and steak["hashtags"] == [
        "steak",
        "meat",
        "summer",
    ]
    assert steak["creator"]["url"] == "https://www.grill.example/users/grillymcgrillerson"
    second = items["web:video:grill.example/videos/some_video_landing_page.html#video-2"]
    assert second["metrics"]["views"] is None and second["duration_s"] is None
    assert items["web:live:grill.example/live/bbq-night"]["live"]["status"] == "live"
    assert items["web:live:grill.example/live/bbq-night"]["metrics"]["views"] is None  # 1e30
    assert items["web:live:grill.example/live/last-week"]["live"]["status"] == "ended"
    assert out["pages"] == ["https://www.grill.example/recipes/ribs"] and out["links"] == []
    assert out["errors"] == ["sitemap/video_without_loc"]


def test_sitemap_gzip_body_and_bomb():
    xml = (STANDARDS / "video-sitemap.xml").read_bytes()
    page = Page(
        url="https://www.grill.example/s.xml.gz", body=gzip.compress(xml), observed_at=FIXED_OBSERVED_AT
    )
    assert len(parse_page(page, "sitemap").items) == 4
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_SITEMAP_BYTES + 1), compresslevel=9)
    assert len(bomb) < 200_000
    result = parse_page(Page(url="https://x.example/bomb.xml.gz", body=bomb), "sitemap")
    assert result.errors == ["sitemap/too_large"] and result.items == []
    assert parse_page(Page(url="https://x.example/b.xml.gz", body=b"\x1f\x8bnot gzip"), "sitemap").errors == [
        "sitemap/bad_gzip"
    ]
    body = gzip.compress(xml)
    for damaged in (
        body[:20],
        body[:10] + bytes([body[10] ^ 0xFF]) + body[11:],
        body[:30] + bytes(40) + body[70:],
    ):
        # a damaged deflate stream raises zlib.error, which is no OSError
        assert parse_page(Page(url="https://x.example/d.xml.gz", body=damaged), "sitemap").errors == [
            "sitemap/bad_gzip"
        ]


def test_robots_txt_sitemap_lines():
    body = b"User-agent: *\nDisallow: /private/\nSitemap: https://www.grill.example/sitemap_index.xml\nsitemap: /video.xml\n"
    result = parse_page(Page(url="https://www.grill.example/robots.txt", body=body), "sitemap")
    assert result.links == [
        "https://www.grill.example/sitemap_index.xml",
        "https://www.grill.example/video.xml",
    ]


def test_youtube_feed_ids_and_counters():
    items = items_of(
        "youtube-channel.xml",
        "https://www.youtube.com/feeds/videos.xml?channel_id=UCxHaoWuChannel0000000aa",
        "feed",
    )
    video = items["youtube:video:Ab3dEfGh1jK"]
    assert (
        video["platform"] == "youtube"
        and video["creator"]["id"] == "youtube:creator:UCxHaoWuChannel0000000aa"
    )
    assert (
        video["metrics"]["views"] == 240518 and video["metrics"]["likes"] == 5321
    )  # starRating count = likes
    assert video["hashtags"] == ["口红", "双十一"] and video["language"] == "zh"
    playlist = items_of(
        "youtube-playlist.xml", "https://www.youtube.com/feeds/videos.xml?playlist_id=PLgiftguide2026", "feed"
    )
    assert playlist["youtube:video:Gift0000001"]["creator"]["id"] == "youtube:creator:UCmaker000000000000000a"


def test_rss_is_xxe_safe_and_counts_unlinkable_entries():
    out = run_case(GoldenCase(STANDARDS / "rss2.xml", "https://gadgetclips.example/feed.rss", "feed"))
    assert "root:" not in str(out)
    items = {i["id"]: i for i in out["items"]}
    keyboard = items["web:video:gadgetclips.example/v/folding-keyboard"]
    assert keyboard["creator"]["name"] == "Lena Ortiz" and keyboard["duration_s"] == 95
    assert keyboard["published_at"] == "2026-11-23T01:30:00Z"
    assert items["web:video:gadgetclips.example/v/desk-lamps"]["creator"]["name"] == "Sam Lee"
    assert out["errors"] == ["feed/entry_without_link"]


@pytest.mark.parametrize(
    ("url", "native"),
    [
        ("https://www.Shop.example/p/1/?utm_source=x&b=2&a=1#top", "shop.example/p/1?a=1&b=2"),
        ("http://shop.example:80/", "shop.example"),
        ("https://shop.example:8443/a//b", "shop.example:8443/a/b"),
        ("ftp://shop.example/x", None),
        ("/relative", None),
    ],
)
def test_web_native_id(url, native):
    assert web_native_id(url) == native


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("/v/1", "https://a.example/v/1"),
        ("http://[oops/v", None),  # urllib raises ValueError on unbalanced IPv6 brackets
        ("https://a]b.example/", None),
        ("https://a.example/[x]?q=[1]", "https://a.example/[x]?q=[1]"),  # brackets outside the host are fine
        ("http:/no-host", None),
        ("javascript:alert(1)", None),
        (["https://a.example/"], None),
    ],
)
def test_absolute_url_tolerates_brackets(value, url):
    assert absolute_url(value, "https://a.example/page") == url


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("case", [c for c in CASES if c.page.suffix in (".html", ".xml")][::2], ids=str)
def test_wide_encodings_with_a_bom_parse_like_utf8(case, encoding):
    """A UTF-16/32 page with a byte order mark is the same page: Page re-encodes it (it was "not html")."""
    text = case.page.read_text(encoding="utf-8")
    wide = "\ufeff".encode(encoding) + text.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode(
        encoding
    )
    page = Page(
        url=case.url, body=wide, content_type=f"text/html; charset={encoding}", observed_at=case.observed_at
    )
    result = parse_page(page, case.parser)
    expected = run_case(case)
    assert [item.to_json() for item in result.items] == expected["items"]
    assert (result.errors, result.links, result.blocked) == (
        expected["errors"],
        expected["links"],
        expected["blocked"],
    )


@pytest.mark.parametrize(
    ("name", "url", "parser"),
    [
        ("video-sitemap.xml", "https://a.example/s.xml", "sitemap"),
        ("sitemap-index.xml", "https://a.example/s.xml", "sitemap"),
        ("rss2.xml", "https://a.example/f", "feed"),
        ("atom.xml", "https://a.example/f", "feed"),
        ("video-products-graph.html", "https://a.example/v", "jsonld"),
        ("opengraph-video.html", "https://a.example/v", "jsonld"),
    ],
)
def test_registry_recognises_content(name, url, parser):
    page = Page(url=url, body=(STANDARDS / name).read_bytes())
    chosen = choose_parser(page)
    assert chosen is not None and chosen.name == parser


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"\x00\x01\x02garbage\xff\xfe" * 50,
        b"<html",
        "<html><body>\ud800".encode("utf-8", "surrogatepass"),
    ],
)
@pytest.mark.parametrize("parser", ["jsonld", "sitemap", "feed"])
def test_hostile_bodies_never_raise(parser, body):
    result = parse_page(Page(url="https://x.example/p", body=body), parser)
    assert result.items == [] and not any(e.endswith("/crash") for e in result.errors)
