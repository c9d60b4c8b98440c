"""The offline demo's sample site: deterministic (seeded) pages in several platforms' shapes, replayed day by day.

`DemoSite(seed, base, days)` generates, for each replayed day, the same URLs with growing counts:
schema.org JSON-LD video, live and product pages, a Google video sitemap, a YouTube-style Atom feed,
TikTok pages (`__UNIVERSAL_DATA_FOR_REHYDRATION__` with TikTok Shop anchors) and a Bilibili
popular-list API response. Videos published on a later day appear on that day's pages only, so
"new videos" and acceleration are real. `DemoServer` serves one day at a time on 127.0.0.1 (port 0)
with a permissive robots.txt. Every absolute URL inside the pages names fixed demo hosts (never the
server's port), so ids stay the same across days and runs. See docs/CLI.md, "demo".
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from html import escape
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from crawler.localserver import LocalServer, Route
from crawler.times import iso_utc, utc_now

DEFAULT_SEED = 20261125
DEFAULT_DAYS = 4
WEB = "https://haowu.demo.example"  # the fixed host of the JSON-LD pages' canonical URLs
ROBOTS = b"User-agent: *\nAllow: /\n"

# name (zh), name (en), shop, price, currency, category, trend: how a product's videos grow day after day
# ("hot": each day brings 1.7x the previous day's views and new videos; "steady": 1.0x; "fading": 0.6x).
PRODUCTS = [
    ("丝绒哑光口红 02号色", "Velvet matte lipstick No.02", "美妆旗舰店", 59.9, "CNY", "美妆 > 唇部", "hot"),
    ("空气感气垫粉底", "Air cushion foundation", "美妆旗舰店", 129.0, "CNY", "美妆 > 底妆", "steady"),
    (
        "无线降噪蓝牙耳机",
        "Wireless noise-cancelling earbuds",
        "SoundCo Official",
        49.99,
        "USD",
        "数码 > 耳机",
        "hot",
    ),
    ("每日坚果零食礼包", "Daily nuts snack box", "零食铺子", 39.9, "CNY", "食品 > 零食", "steady"),
    ("便携榨汁杯", "Portable blender cup", "KitchenJoy", 29.99, "USD", "厨房 > 小家电", "fading"),
    ("冬季加厚羽绒服", "Winter down jacket", "暖冬服饰", 399.0, "CNY", "服饰 > 外套", "hot"),
    ("儿童保温杯", "Kids thermos bottle", "萌宝家居", 89.0, "CNY", "母婴 > 水杯", "steady"),
    ("LED 补光灯", "LED ring light", "StudioGear", 19.99, "USD", "数码 > 摄影", "fading"),
]
TIKTOK_PRODUCTS = [
    ("1729384756001", "Hydrating lip oil 唇油", "GlowLab Store", "12.99", "hot"),
    # the web's portable blender cup (PRODUCTS[4]) sold on TikTok too: one product on several platforms
    ("1729384756002", "KitchenJoy Portable Blender Cup", "KitchenJoy", "29.99", "steady"),
    ("1729384756003", "Phone tripod 手机支架", "TechTom Gear", "15.99", "fading"),
]
GROWTH = {"hot": 1.7, "steady": 1.0, "fading": 0.6}
WEB_CREATORS = [
    ("小美酱", "xiaomei"),
    ("数码老王", "laowang"),
    ("Chef Emma", "chefemma"),
    ("零食小当家", "snackking"),
    ("Fit Jenny", "fitjenny"),
]
TIKTOK_CREATORS = [
    ("Mia Glow", "glowwithmia", "6801112223334445001"),
    ("Kitchen Hacks", "kitchenhacks", "6801112223334445002"),
    ("Tech Tom", "techtom", "6801112223334445003"),
]
YOUTUBE_CHANNEL = ("UCdemoGadgetLab000000001", "Gadget Lab 数码实验室")
BILIBILI_UPS = [("美食up主小陈", "3546001"), ("数码评测君", "3546002")]
ZH_TEMPLATES = [
    "{p}真实测评，值不值得买？",
    "{p}开箱试用 | 平价好物推荐",
    "三天用下来，{p}太惊喜了",
    "{p}避坑指南",
]
EN_TEMPLATES = ["{p} honest review", "I tried the {p} for a week", "{p}: worth the hype?", "Unboxing the {p}"]
HASHTAGS = {
    0: ["口红", "美妆"],
    1: ["粉底", "美妆"],
    2: ["earbuds", "数码"],
    3: ["零食", "好物推荐"],
    4: ["kitchen", "好物推荐"],
    5: ["羽绒服", "穿搭"],
    6: ["母婴", "好物推荐"],
    7: ["数码", "vlog"],
}


@dataclass
class DemoVideo:
    """One video or live room and its metric curve: `views(day)` for each replayed day index."""

    key: str
    kind: str  # web_video | web_live | product_video | sitemap | youtube | tiktok | bilibili
    title: str
    description: str
    creator: tuple[str, ...]
    published_day: int  # day index (0 = the first replayed day; negative: published before it)
    base_views: int
    daily_gain: int
    growth: float
    products: list[int] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)
    duration_s: int = 60

    def views(self, day: int) -> int | None:
        if day < self.published_day:
            return None
        total = float(self.base_views)
        for k in range(day - self.published_day):
            total += self.daily_gain * self.growth**k
        return int(total)

    def counts(self, day: int) -> dict[str, int] | None:
        views = self.views(day)
        if views is None:
            return None
        return {
            "views": views,
            "likes": views // 25,
            "comments": views // 400,
            "shares": views // 900,
            "collects": views // 600,
        }


class DemoSite:
    """The sample site. `base` is the last replayed day's observation time; day i is `base - (days-1-i)` days."""

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        base: datetime | None = None,
        days: int = DEFAULT_DAYS,
        small: bool = False,
    ) -> None:
        if days < 2:
            raise ValueError("the demo needs at least 2 days of snapshots for trends")
        self.seed, self.days, self.small = seed, days, small
        now = base or utc_now()
        self.base = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
        self.rng = random.Random(seed)
        self.videos: list[DemoVideo] = []
        self._build()

    # -- the catalogue ---------------------------------------------------------------------------
    def day_time(self, day: int) -> datetime:
        return self.base - timedelta(days=self.days - 1 - day)

    def day_iso(self, day: int) -> str:
        return iso_utc(self.day_time(day))

    def _published_day(self, trend: str) -> int:
        # hot products keep gaining new videos during the replay; others were published before it
        if trend == "hot":
            return self.rng.choice([-5, -2, 0, 1, self.days - 2, self.days - 1])
        return self.rng.choice([-9, -6, -3, -1, 0])

    def _title(self, index: int, product: str, en: bool) -> str:
        return self.rng.choice(EN_TEMPLATES if en else ZH_TEMPLATES).format(p=product)

    def _video(
        self,
        kind: str,
        key: str,
        product: int | None,
        creator: tuple[str, ...],
        en: bool,
        trend: str | None = None,
        hashtags: list[str] | None = None,
    ) -> DemoVideo:
        if product is not None:
            zh, en_name, *_rest, ptrend = PRODUCTS[product]
            trend = trend or ptrend
            title = self._title(len(self.videos), en_name if en else zh, en)
            tags = hashtags if hashtags is not None else HASHTAGS[product]
        else:
            trend = trend or "steady"
            title = key
            tags = hashtags or []
        growth = GROWTH[trend] * self.rng.uniform(0.9, 1.1)
        video = DemoVideo(
            key=key,
            kind=kind,
            title=title,
            description=f"{title} " + " ".join(f"#{t}" for t in tags),
            creator=creator,
            published_day=self._published_day(trend),
            base_views=self.rng.randrange(800, 20000),
            daily_gain=self.rng.randrange(2000, 30000),
            growth=round(growth, 3),
            products=[product] if product is not None else [],
            hashtags=tags,
            duration_s=self.rng.randrange(15, 600),
        )
        self.videos.append(video)
        return video

    def _build(self) -> None:
        n = 1 if self.small else 2  # videos per product and channel
        for i in range(6):  # JSON-LD video pages for the first six products
            for j in range(n + (1 if PRODUCTS[i][6] == "hot" else 0)):
                creator = WEB_CREATORS[(i + j) % len(WEB_CREATORS)]
                self._video("web_video", f"v{i}{j}", i, creator, en=(i + j) % 2 == 1)
        for i in range(3 if self.small else 4):  # live rooms selling products 0, 2, 3, 5
            product = (0, 2, 3, 5)[i]
            creator = WEB_CREATORS[i % len(WEB_CREATORS)]
            live = self._video("web_live", f"room{i}", product, creator, en=i % 2 == 1)
            live.title = (
                f"直播中：{PRODUCTS[product][0]}限时秒杀"
                if i % 2 == 0
                else f"LIVE now: {PRODUCTS[product][1]} flash sale"
            )
            live.published_day = min(live.published_day, 0)
        for i in (6, 7):  # product pages that embed their own video
            self._video("product_video", f"p{i}", i, WEB_CREATORS[i % len(WEB_CREATORS)], en=i == 7)
        for i in range(3 if self.small else 6):  # video sitemap entries (no product links)
            product = (1, 3, 4, 5, 6, 0)[i]
            self._video("sitemap", f"s{i}", product, WEB_CREATORS[(i + 2) % len(WEB_CREATORS)], en=i % 2 == 0)
        for i in range(3 if self.small else 5):  # YouTube channel feed
            product = (2, 7, 0, 4, 5)[i]
            self._video("youtube", f"yt{i}", product, YOUTUBE_CHANNEL, en=True)
        for i in range(3 if self.small else 6):  # TikTok videos with shop anchors
            pid, title, _shop, _price, trend = TIKTOK_PRODUCTS[i % 3]
            creator = TIKTOK_CREATORS[i % 3]
            video = self._video(
                "tiktok",
                f"7571000000000000{i:03d}",
                None,
                creator,
                en=True,
                trend=trend,
                hashtags=[["lipoil", "beauty"], ["kitchengadgets", "tiktokmademebuyit"], ["tech", "vlog"]][
                    i % 3
                ],
            )
            video.title = self.rng.choice(EN_TEMPLATES).format(p=title)
            video.description = video.title + " " + " ".join(f"#{t}" for t in video.hashtags)
            video.products = [i % 3]
        for i in range(3 if self.small else 5):  # Bilibili popular list
            product = (3, 2, 6, 0, 1)[i]
            video = self._video("bilibili", f"BV1demo{i:05d}", product, BILIBILI_UPS[i % 2], en=False)
            video.key = f"BV1Dm{i:07d}"[:12]

    # -- URLs the spiders start from --------------------------------------------------------------
    def start_paths(self, day: int) -> dict[str, list[str]]:
        """Spider name -> paths on the demo server on day `day` (joined to the server's URL by the caller)."""
        visible = [v for v in self.videos if v.counts(day) is not None]
        jsonld = [f"/video/{v.key}.html" for v in visible if v.kind == "web_video"]
        jsonld += [f"/live/{v.key}.html" for v in visible if v.kind == "web_live"]
        jsonld += [f"/product/{v.key}.html" for v in visible if v.kind == "product_video"]
        tiktok = [f"/tiktok/@{v.creator[1]}/video/{v.key}" for v in visible if v.kind == "tiktok"]
        return {
            "jsonld": jsonld,
            "sitemap": ["/sitemap-video.xml"],
            "feed": [f"/feeds/videos.xml?channel_id={YOUTUBE_CHANNEL[0]}"],
            "tiktok": tiktok,
            "bilibili": ["/bilibili/x/web-interface/popular?ps=20&pn=1"],
        }

    def pages(self, day: int) -> dict[str, tuple[str, bytes]]:
        """Every path of the site as it looks on replayed day `day` (0 .. days-1): path -> (type, body)."""
        html, xml, js = (
            "text/html; charset=utf-8",
            "application/xml; charset=utf-8",
            "application/json; charset=utf-8",
        )
        out: dict[str, tuple[str, bytes]] = {"/robots.txt": ("text/plain", ROBOTS)}
        visible = [v for v in self.videos if v.counts(day) is not None]
        for v in visible:
            if v.kind == "web_video":
                out[f"/video/{v.key}.html"] = (html, self._jsonld_video(v, day).encode())
            elif v.kind == "web_live":
                out[f"/live/{v.key}.html"] = (html, self._jsonld_live(v, day).encode())
            elif v.kind == "product_video":
                out[f"/product/{v.key}.html"] = (html, self._jsonld_product(v, day).encode())
            elif v.kind == "tiktok":
                out[f"/tiktok/@{v.creator[1]}/video/{v.key}"] = (html, self._tiktok(v, day).encode())
        out["/sitemap-video.xml"] = (
            xml,
            self._sitemap([v for v in visible if v.kind == "sitemap"], day).encode(),
        )
        out["/feeds/videos.xml"] = (
            xml,
            self._feed([v for v in visible if v.kind == "youtube"], day).encode(),
        )
        out["/bilibili/x/web-interface/popular"] = (
            js,
            self._bilibili([v for v in visible if v.kind == "bilibili"], day),
        )
        return out

    # -- page shapes ------------------------------------------------------------------------------
    def _published_iso(self, v: DemoVideo) -> str:
        # a few hours before that day's crawl, so "since publication" rates are finite
        when = self.day_time(v.published_day) - timedelta(hours=3 + (sum(map(ord, v.key)) % 9))
        return iso_utc(when)

    @staticmethod
    def _product_url(index: int) -> str:
        return f"{WEB}/p/{index}"

    def _product_node(self, index: int) -> dict[str, Any]:
        zh, en, shop, price, currency, category, _ = PRODUCTS[index]
        return {
            "@type": "Product",
            "@id": self._product_url(index),
            "url": self._product_url(index),
            "name": f"{zh} {en}",
            "category": category,
            "offers": {
                "@type": "Offer",
                "price": f"{price:.2f}",
                "priceCurrency": currency,
                "seller": {"@type": "Organization", "name": shop},
            },
        }

    def _video_node(self, v: DemoVideo, day: int, url: str) -> dict[str, Any]:
        counts = v.counts(day) or {}
        actions = (
            ("WatchAction", "views"),
            ("LikeAction", "likes"),
            ("CommentAction", "comments"),
            ("ShareAction", "shares"),
        )
        return {
            "@type": "VideoObject",
            "@id": f"{url}#video",
            "url": url,
            "name": v.title,
            "description": v.description,
            "keywords": ", ".join(v.hashtags),
            "uploadDate": self._published_iso(v),
            "duration": f"PT{v.duration_s}S",
            "thumbnailUrl": f"{WEB}/thumb/{v.key}.jpg",
            "contentUrl": f"https://cdn.haowu.demo.example/{v.key}.mp4",
            "author": {
                "@type": "Person",
                "name": v.creator[0],
                "alternateName": f"@{v.creator[1]}",
                "url": f"{WEB}/u/{v.creator[1]}",
            },
            "interactionStatistic": [
                {
                    "@type": "InteractionCounter",
                    "interactionType": f"https://schema.org/{action}",
                    "userInteractionCount": counts[name],
                }
                for action, name in actions
            ],
        }

    @staticmethod
    def _html(title: str, data: Any, canonical: str, body: str = "") -> str:
        blob = json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")
        return (
            f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>\n'
            f'<link rel="canonical" href="{escape(canonical)}">\n'
            f'<script type="application/ld+json">\n{blob}\n</script>\n</head>'
            f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
        )

    def _jsonld_video(self, v: DemoVideo, day: int) -> str:
        url = f"{WEB}/video/{v.key}"
        node = self._video_node(v, day, url)
        node["mentions"] = [self._product_node(i) for i in v.products]
        return self._html(v.title, {"@context": "https://schema.org", "@graph": [node]}, url)

    def _jsonld_live(self, v: DemoVideo, day: int) -> str:
        url = f"{WEB}/live/{v.key}"
        node = self._video_node(v, day, url)
        started = iso_utc(self.day_time(day) - timedelta(hours=2))
        node["publication"] = {"@type": "BroadcastEvent", "isLiveBroadcast": True, "startDate": started}
        node["uploadDate"] = started if day >= v.published_day else node["uploadDate"]
        node["mentions"] = [self._product_node(i) for i in v.products]
        return self._html(v.title, {"@context": "https://schema.org", "@graph": [node]}, url)

    def _jsonld_product(self, v: DemoVideo, day: int) -> str:
        index = v.products[0]
        url = self._product_url(index)
        product = self._product_node(index)
        product["description"] = f"{PRODUCTS[index][0]} — {PRODUCTS[index][1]}"
        product["subjectOf"] = self._video_node(v, day, f"{WEB}/video/{v.key}")
        return self._html(product["name"], {"@context": "https://schema.org", **product}, url)

    def _sitemap(self, videos: list[DemoVideo], day: int) -> str:
        entries = []
        for v in videos:
            counts = v.counts(day) or {}
            tags = "".join(f"<video:tag>{xml_escape(t)}</video:tag>" for t in v.hashtags)
            entries.append(
                f"<url><loc>{WEB}/watch/{v.key}</loc><video:video>"
                f"<video:thumbnail_loc>{WEB}/thumb/{v.key}.jpg</video:thumbnail_loc>"
                f"<video:title>{xml_escape(v.title)}</video:title>"
                f"<video:description>{xml_escape(v.description)}</video:description>"
                f"<video:player_loc>{WEB}/player?v={v.key}</video:player_loc>"
                f"<video:duration>{v.duration_s}</video:duration><video:view_count>{counts['views']}</video:view_count>"
                f"<video:publication_date>{self._published_iso(v)}</video:publication_date>{tags}"
                f'<video:uploader info="{WEB}/u/{v.creator[1]}">{xml_escape(v.creator[0])}</video:uploader>'
                "</video:video></url>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:video="http://www.google.com/schemas/sitemap-video/1.1">\n'
            + "\n".join(entries)
            + "\n</urlset>\n"
        )

    def _feed(self, videos: list[DemoVideo], day: int) -> str:
        channel, name = YOUTUBE_CHANNEL
        entries = []
        for v in videos:
            counts = v.counts(day) or {}
            vid = f"dm{v.key}{'x' * 11}"[:11]
            entries.append(
                f"<entry><id>yt:video:{vid}</id><yt:videoId>{vid}</yt:videoId><yt:channelId>{channel}</yt:channelId>"
                f'<title>{xml_escape(v.title)}</title><link rel="alternate" href="https://www.youtube.com/watch?v={vid}"/>'
                f"<author><name>{xml_escape(name)}</name><uri>https://www.youtube.com/channel/{channel}</uri></author>"
                f"<published>{self._published_iso(v)}</published><updated>{self.day_iso(day)}</updated>"
                f"<media:group><media:title>{xml_escape(v.title)}</media:title>"
                f"<media:description>{xml_escape(v.description)}</media:description>"
                f'<media:community><media:starRating count="{counts["likes"]}" average="5.00" min="1" max="5"/>'
                f'<media:statistics views="{counts["views"]}"/></media:community></media:group></entry>'
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" '
            'xmlns:media="http://search.yahoo.com/mrss/" xmlns="http://www.w3.org/2005/Atom">\n'
            f'<link rel="self" href="http://www.youtube.com/feeds/videos.xml?channel_id={channel}"/>\n'
            f"<id>yt:channel:{channel[2:]}</id><yt:channelId>{channel[2:]}</yt:channelId><title>{xml_escape(name)}</title>\n"
            f"<author><name>{xml_escape(name)}</name><uri>https://www.youtube.com/channel/{channel}</uri></author>\n"
            + "\n".join(entries)
            + "\n</feed>\n"
        )

    def _tiktok(self, v: DemoVideo, day: int) -> str:
        counts = v.counts(day) or {}
        name, handle, uid = v.creator
        pid, ptitle, shop, price, _ = TIKTOK_PRODUCTS[v.products[0]]
        sold = 500 + (counts["views"] // 180)
        product = {
            "product_id": pid,
            "title": ptitle,
            "price": price,
            "currency": "USD",
            "shop_name": shop,
            "sold_count": sold,
            "seo_url": f"https://www.tiktok.com/view/product/{pid}",
        }
        anchor_extra = [
            {
                "component_key": "anchor_shop",
                "type": 33,
                "id": pid,
                "keyword": ptitle,
                "extra": json.dumps(product, ensure_ascii=False),
            }
        ]
        created = int(datetime.fromisoformat(self._published_iso(v).replace("Z", "+00:00")).timestamp())
        item = {
            "id": v.key,
            "desc": v.description,
            "createTime": str(created),
            "textLanguage": "en",
            "video": {"duration": v.duration_s},
            "author": {"id": uid, "uniqueId": handle, "nickname": name, "verified": False},
            "authorStats": {"followerCount": 120000 + 1000 * day},
            "stats": {
                "playCount": counts["views"],
                "diggCount": counts["likes"],
                "commentCount": counts["comments"],
                "shareCount": counts["shares"],
                "collectCount": counts["collects"],
            },
            "statsV2": {
                "playCount": str(counts["views"]),
                "diggCount": str(counts["likes"]),
                "commentCount": str(counts["comments"]),
                "shareCount": str(counts["shares"]),
                "collectCount": str(counts["collects"]),
            },
            "textExtra": [{"hashtagName": t, "type": 1} for t in v.hashtags],
            "anchors": [
                {
                    "id": pid,
                    "type": 33,
                    "keyword": ptitle,
                    "extra": json.dumps(anchor_extra, ensure_ascii=False),
                }
            ],
        }
        state = {
            "__DEFAULT_SCOPE__": {
                "webapp.app-context": {"language": "en", "region": "US"},
                "webapp.video-detail": {"statusCode": 0, "statusMsg": "", "itemInfo": {"itemStruct": item}},
            }
        }
        blob = json.dumps(state, ensure_ascii=False).replace("</", "<\\/")
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(v.title)} | TikTok</title></head><body>"
            f'<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__" type="application/json">{blob}</script>'
            "</body></html>\n"
        )

    def _bilibili(self, videos: list[DemoVideo], day: int) -> bytes:
        entries = []
        for v in videos:
            counts = v.counts(day) or {}
            up, mid = v.creator
            created = int(datetime.fromisoformat(self._published_iso(v).replace("Z", "+00:00")).timestamp())
            entries.append(
                {
                    "aid": 100000 + len(entries),
                    "bvid": v.key,
                    "title": v.title,
                    "desc": v.description,
                    "pubdate": created,
                    "ctime": created,
                    "duration": v.duration_s,
                    "owner": {"mid": int(mid), "name": up},
                    "stat": {
                        "view": counts["views"],
                        "like": counts["likes"],
                        "reply": counts["comments"],
                        "share": counts["shares"],
                        "favorite": counts["collects"],
                        "coin": counts["likes"] // 3,
                    },
                    "dynamic": " ".join(f"#{t}#" for t in v.hashtags),
                }
            )
        body = {"code": 0, "message": "0", "ttl": 1, "data": {"list": entries, "no_more": True}}
        return json.dumps(body, ensure_ascii=False).encode("utf-8")


class DemoServer(LocalServer):
    """The demo site on the shared local server (127.0.0.1, port 0); `serve_day(i)` switches days."""

    def __init__(self, site: DemoSite, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host=host, port=port)
        self.site = site

    def serve_day(self, day: int) -> None:
        self.set_routes(
            {
                path: Route(body, 200, {"Content-Type": ctype})
                for path, (ctype, body) in self.site.pages(day).items()
            }
        )

    def start_urls(self, day: int) -> dict[str, list[str]]:
        return {
            spider: [self.base_url + p for p in paths] for spider, paths in self.site.start_paths(day).items()
        }

    def __enter__(self) -> DemoServer:
        self.start()
        return self
