"""Bilibili live API bodies (issue 17 item 5): real responses from bilibili-API-collect's docs, and derived ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsers import choose_parser, parse_page
from crawler.parsers.base import Page
from crawler.spiders.bilibili import LIVE_RECOMMEND_URL, BilibiliSpider, discover_urls
from tests.golden import FIXED_OBSERVED_AT, GoldenCase, check_golden

FIXTURES = Path(__file__).parent / "fixtures" / "platforms" / "bilibili"
LIVE = "https://api.live.bilibili.com"
LIVE_URLS = {
    "live-get-info-5440.json": f"{LIVE}/room/v1/Room/get_info?room_id=1",
    "live-room-info-old-5441.json": f"{LIVE}/room/v1/Room/getRoomInfoOld?mid=322892",
    "live-room-init-76.json": f"{LIVE}/room/v1/Room/room_init?id=76",
    "live-room-play-info-23058.json": f"{LIVE}/xlive/web-room/v2/index/getRoomPlayInfo?room_id=3&protocol=0,1",
    "live-master-info-2.json": f"{LIVE}/live_user/v1/Master/info?uid=2",
    "live-room-base-info.json": f"{LIVE}/xlive/web-room/v1/index/getRoomBaseInfo?room_ids=3&room_ids=1&req_biz=x",
    "live-status-by-uids.json": f"{LIVE}/room/v1/Room/get_status_info_by_uids?uids[]=672328094",
    "live-status-by-uids-on-air.json": f"{LIVE}/room/v1/Room/get_status_info_by_uids?uids[]=66606350",
    "live-recommend-list.json": LIVE_RECOMMEND_URL,
    "live-area-list-9-371.json": f"{LIVE}/xlive/web-interface/v1/second/getList?platform=web&parent_area_id=9&area_id=371&sort_type=&page=1",
}
CASES = [GoldenCase(FIXTURES / name, url=url, parser=None) for name, url in LIVE_URLS.items()]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden(case):
    check_golden(case)


def parse(name: str, url: str | None = None):
    page = Page(
        url=url or LIVE_URLS[name],
        body=(FIXTURES / name).read_bytes(),
        content_type="application/json",
        observed_at=FIXED_OBSERVED_AT,
    )
    return parse_page(page, "bilibili")


@pytest.mark.parametrize("name", sorted(LIVE_URLS))
def test_extract_without_url_recognises_every_live_body(name):
    page = Page(url=(FIXTURES / name).resolve().as_uri(), body=(FIXTURES / name).read_bytes())
    assert choose_parser(page).name == "bilibili"
    result = parse_page(page)
    assert result.errors == [] and (result.items or result.links)


def test_replaying_room_is_ended_without_viewers_or_start():
    live = parse("live-get-info-5440.json").items[0]
    assert live.live.status == "ended" and live.metrics.viewers is None  # live_status 2: 轮播, not live
    assert live.live.started_at is None and live.published_at is None
    assert live.thumbnail.endswith("96943b8d106a777a34cf796421bb4254163b30e1.jpg")
    assert live.creator.followers == 11919499


def test_room_info_old_takes_the_user_from_the_query():
    live = parse("live-room-info-old-5441.json").items[0]
    assert live.id == "bilibili:live:5441" and live.live.status == "live"
    assert live.metrics.viewers == 268602 and live.creator.id == "322892"
    assert live.thumbnail.startswith("http://i0.hdslb.com/bfs/live/room_cover/")


def test_room_init_and_play_info_lead_to_the_room_info():
    assert parse("live-room-init-76.json").links == [f"{LIVE}/room/v1/Room/get_info?room_id=14073662"]
    assert parse("live-room-play-info-23058.json").links == [f"{LIVE}/room/v1/Room/get_info?room_id=23058"]


def test_epoch_live_time_is_the_start_and_the_publication_time():
    live = parse("live-status-by-uids-on-air.json").items[0]
    assert live.live.status == "live" and live.live.started_at == "2026-11-25T08:30:00Z"
    assert live.published_at == live.live.started_at and live.metrics.viewers == 40211
    assert live.creator.name == "电音快板社" and live.hashtags == ["电音", "快板"]


def test_beijing_live_time_string_is_the_start_and_the_publication_time():
    live = parse("live-room-21452505.json", f"{LIVE}/room/v1/Room/get_info?room_id=21452505").items[0]
    assert live.live.started_at == live.published_at == "2026-11-25T09:30:00Z"  # 17:30 Asia/Shanghai


def test_master_info_is_a_creator_with_its_room():
    result = parse("live-master-info-2.json")
    creator = result.items[0]
    assert creator.id == "bilibili:creator:2" and creator.name == "碧诗"
    assert creator.followers == 926624 and creator.verified is True
    assert result.links == [f"{LIVE}/room/v1/Room/get_info?room_id=1024"]


def test_room_lists_give_viewers_now_and_total_watched():
    rooms = parse("live-recommend-list.json").items
    assert [r.id for r in rooms] == [
        "bilibili:live:923833",
        "bilibili:live:32190922",
        "bilibili:live:25959685",
    ]
    first = rooms[0]
    assert (first.metrics.viewers, first.metrics.views) == (262700, 30460)
    assert first.live.status == "live" and first.creator.followers is None  # followers: 0 is a placeholder
    assert first.creator.verified is True and first.thumbnail.endswith(
        "34aedc9409c0abaf622fdb9c6137896b8a9f95d0.jpg"
    )


def test_area_list_pages_and_hidden_watched_counts():
    result = parse("live-area-list-9-371.json")
    assert result.links == [
        f"{LIVE}/xlive/web-interface/v1/second/getList?platform=web&parent_area_id=9&area_id=371&sort_type=&page=2"
    ]
    hidden = result.items[1]
    assert hidden.metrics.views is None  # watched_show.switch false: not shown
    assert hidden.language == "de"


def test_discover_lists_are_spider_arguments():
    assert discover_urls("live") == [LIVE_RECOMMEND_URL]
    assert discover_urls("area:9:371, area:2") == [
        f"{LIVE}/xlive/web-interface/v1/second/getList?platform=web&parent_area_id=9&area_id=371&sort_type=&page=1",
        f"{LIVE}/xlive/web-interface/v1/second/getList?platform=web&parent_area_id=2&area_id=0&sort_type=&page=1",
    ]
    with pytest.raises(ValueError, match="unknown discover list 'hot'"):
        discover_urls("hot")
    spider = BilibiliSpider(discover="live,ranking")
    assert spider.start_urls[0] == LIVE_RECOMMEND_URL and "ranking/v2" in spider.start_urls[1]


def test_crawl_reads_the_live_room_list(http_server, crawl):
    url = http_server.add(
        "/xlive/web-interface/v1/webMain/getMoreRecList",
        (FIXTURES / "live-recommend-list.json").read_bytes(),
        content_type="application/json; charset=utf-8",
    )
    outcome = crawl("bilibili", args={"urls": url})
    assert set(outcome.by_id()) == {
        "bilibili:live:923833",
        "bilibili:live:32190922",
        "bilibili:live:25959685",
    }
