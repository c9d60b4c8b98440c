"""Bilibili adapter: golden API responses (a real view response and responses derived from it) and a real crawl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.parsers import choose_parser, parse_page
from crawler.parsers.base import Page
from crawler.spiders.bilibili import api_url
from tests.golden import GoldenCase, check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "platforms" / "bilibili"
API = "https://api.bilibili.com/x/web-interface"

CASES = [
    GoldenCase(FIXTURES / "view-BV117411r7R1.json", url=f"{API}/view?bvid=BV117411r7R1", parser=None),
    GoldenCase(FIXTURES / "popular-pn1.json", url=f"{API}/popular?ps=20&pn=1", parser=None),
    GoldenCase(FIXTURES / "ranking-v2.json", url=f"{API}/ranking/v2?rid=0&type=all", parser=None),
    GoldenCase(FIXTURES / "view-deleted.json", url=f"{API}/view?bvid=BV1xx411c7mD", parser=None),
    GoldenCase(FIXTURES / "view-risk-control.json", url=f"{API}/view?bvid=BV117411r7R1", parser=None),
    GoldenCase(FIXTURES / "view-odd-types.json", url=f"{API}/view?bvid=BV117411r7R1", parser=None),
    GoldenCase(
        FIXTURES / "live-room-21452505.json",
        url="https://api.live.bilibili.com/room/v1/Room/get_info?room_id=21452505",
        parser=None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case):
    check_golden(case)


def parse(name: str, url: str = f"{API}/view?bvid=BV117411r7R1"):
    return parse_page(
        Page(url=url, body=(FIXTURES / name).read_bytes(), content_type="application/json"), "bilibili"
    )


def test_view_maps_stat_fields():
    item = parse("view-BV117411r7R1.json").items[0]
    m = item.metrics
    assert (m.views, m.likes, m.comments, m.shares, m.collects) == (2404179, 161270, 2676, 9620, 58329)
    assert item.creator.id == "66606350" and item.creator.name == "陈楒潼桶桶桶"
    assert item.published_at == "2020-01-30T09:40:55Z" and item.duration_s == 486
    assert "全民音乐UP主" in item.hashtags and "Remix" in item.hashtags


def test_popular_list_gives_many_videos_and_the_next_page():
    result = parse("popular-pn1.json", f"{API}/popular?ps=20&pn=1")
    assert len(result.items) == 2 and result.links == [f"{API}/popular?ps=20&pn=2"]
    assert result.items[1].metrics.comments == 3012  # "3012"
    assert parse("popular-pn2.json", f"{API}/popular?ps=20&pn=2").links == []
    assert parse("ranking-v2.json", f"{API}/ranking/v2?rid=0&type=all").links == []


def test_error_codes():
    assert parse("view-deleted.json").errors == ["bilibili/unavailable:-404"]
    blocked = parse("view-risk-control.json")
    assert blocked.blocked == "bilibili/risk_control" and blocked.items == []


def test_odd_types_give_none_not_zero():
    item = parse("view-odd-types.json").items[0]
    assert item.metrics.views == 2404179 and item.metrics.likes is None and item.metrics.comments is None
    assert item.metrics.shares is None  # -1 is not a count
    assert item.creator is None and item.published_at is None and item.duration_s is None


@pytest.mark.parametrize("code", [{"a": 1}, [-412], "-412", None, True])
def test_a_code_of_the_wrong_type_is_a_reason_not_a_crash(code):
    body = json.dumps({"code": code, "message": "x", "ttl": 1, "data": None}).encode()
    result = parse_page(Page(url=f"{API}/view?bvid=BV1", body=body), "bilibili")
    assert result.items == [] and result.blocked is None
    assert result.errors[0].startswith("bilibili/unavailable:") and len(result.errors[0]) < 40


@pytest.mark.parametrize("bvid", [{"x": 1}, ["BV1"], "", None])
def test_a_bvid_of_the_wrong_type_gives_no_item(bvid):
    body = json.dumps(
        {"code": 0, "ttl": 1, "data": {"list": [{"bvid": bvid, "title": "t"}], "no_more": True}}
    )
    assert parse_page(Page(url=f"{API}/popular?pn=1", body=body.encode()), "bilibili").items == []


def test_deep_nesting_keeps_the_list_readable_or_is_a_reason():
    body = '{"code": 0, "ttl": 1, "data": {"list": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    result = parse_page(Page(url=f"{API}/popular?pn=1", body=body.encode()), "bilibili")
    assert result.items == [] and not any(e.endswith("/crash") for e in result.errors)


def test_live_room():
    live = parse(
        "live-room-21452505.json", "https://api.live.bilibili.com/room/v1/Room/get_info?room_id=21452505"
    ).items[0]
    assert live.kind == "live" and live.live.status == "live" and live.metrics.viewers == 40211
    assert live.live.started_at == "2026-11-25T09:30:00Z"  # 17:30 Beijing time


@pytest.mark.parametrize(
    "name",
    [
        "view-BV117411r7R1.json",
        "popular-pn1.json",
        "popular-pn2.json",
        "view-deleted.json",
        "live-room-21452505.json",
    ],
)
def test_content_sniffing_recognises_saved_responses(name):
    page = Page(
        url=(FIXTURES / name).resolve().as_uri(),
        body=(FIXTURES / name).read_bytes(),
        content_type="application/json",
    )
    assert choose_parser(page).name == "bilibili"


def test_page_urls_become_api_calls():
    assert (
        api_url("https://www.bilibili.com/video/BV117411r7R1/?spm_id_from=333")
        == f"{API}/view?bvid=BV117411r7R1"
    )
    assert (
        api_url("https://live.bilibili.com/21452505")
        == "https://api.live.bilibili.com/room/v1/Room/get_info?room_id=21452505"
    )
    assert api_url(f"{API}/popular?ps=20&pn=1") == f"{API}/popular?ps=20&pn=1"


def test_crawl_follows_popular_pages_and_counts_blocks(http_server, crawl):
    body = lambda name: (FIXTURES / name).read_bytes()  # noqa: E731
    json_type = "application/json; charset=utf-8"
    urls = [
        http_server.add("/x/web-interface/popular", body("popular-pn1.json"), content_type=json_type),
        http_server.add("/x/web-interface/ranking/v2", body("ranking-v2.json"), content_type=json_type),
        http_server.add("/x/web-interface/view", body("view-risk-control.json"), content_type=json_type),
        http_server.add("/room/v1/Room/get_info", body("live-room-21452505.json"), content_type=json_type),
    ]
    http_server.add("/x/web-interface/popular?ps=20&pn=2", body("popular-pn2.json"), content_type=json_type)
    urls[0] += "?ps=20&pn=1"
    outcome = crawl("bilibili", args={"urls": ",".join(urls)})
    assert set(outcome.by_id()) == {
        "bilibili:video:BV117411r7R1",
        "bilibili:video:BV1Sm2QYWEGd",
        "bilibili:live:21452505",
    }
    assert http_server.hits.get("/x/web-interface/popular?ps=20&pn=2") == 1
    assert outcome.stat("trendcart/blocked/bilibili") == 1
