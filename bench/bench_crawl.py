"""Pages per second through the whole Scrapy stack: the `jsonld` spider vs a bare link-following spider,
or (`--spider tiktok`) the `tiktok` spider on ~500 KB pages with today's readers vs the old ones.

    python bench/bench_crawl.py [--pages 2000] [--rounds 2]
    python bench/bench_crawl.py --spider tiktok [--pages 600] [--rounds 5]
    python bench/bench_crawl.py --spider tiktok --parse-only [--rounds 15]
    python bench/bench_crawl.py --item-workers

Generates the pages (each with a schema.org VideoObject and a linked Product), serves them from the
shared local server on 127.0.0.1 (`crawler/localserver.py`), then crawls the same pages with each spider
in turn, each in its own `scrapy` process with the project's settings (robots.txt, pipelines, feed
export) except for politeness delays, which would measure the delay rather than the stack. With
`--spider tiktok` the pages are the TikTok fixtures (video, live, profile pages of 480-540 KB, cycled)
and the three crawls are: `fetch` (a spider that only fetches them), `tiktok-old` (the spider as it was
before issue #16, `bench/legacy_readers.py`: the old readers, the page decoding its body a second time,
the meta-refresh check on, 100 item workers a response) and `tiktok` (as shipped). A shared
machine's load swings by more than the difference measured, so the rounds interleave the two spiders
(old, new in odd rounds; new, old in even ones), each round's ratio is taken between its own two runs,
and the median of the rounds' ratios is reported beside every round and its load average. Each child
also reports the CPU seconds its crawl used (all in, and from its first response to its close, i.e.
without the crawler's start-up): CPU per page is what a crawler costs whatever the load. `--item-workers`
times Scrapy's item workers per response for CONCURRENT_ITEMS 100 and 16.
Results go to stdout (and --json PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as `python bench/bench_crawl.py`: the package lives beside bench/

from crawler.localserver import LocalServer  # noqa: E402 - after the path set-up above

# Pages per index page: a typical category/listing page links to about this many items.
LINKS_PER_INDEX = 100
# Settings for both spiders: no politeness delay against our own server; everything else as shipped.
BENCH_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "WARNING",
    "TELNETCONSOLE_ENABLED": "False",
}

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<link rel="canonical" href="{url}">
<meta property="og:type" content="video.other"><meta property="og:title" content="{title}">
<script type="application/ld+json">{data}</script></head>
<body><header><nav><a href="/">Home</a> <a href="/index/{index}.html">More videos</a></nav></header>
<main><h1>{title}</h1><p>{description}</p>{filler}</main></body></html>"""


def make_page(n: int, base: str) -> bytes:
    url = f"{base}/v/{n}.html"
    title = f"Video {n}: hands-on with gadget {n % 97} #review"
    description = f"We test gadget {n % 97} for a week. #gadgets #deal{n % 13} 好物推荐 口红 试色"
    data = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": title,
        "description": description,
        "url": url,
        "uploadDate": "2026-11-20T08:00:00+08:00",
        "duration": f"PT{n % 9 + 1}M{n % 60}S",
        "keywords": "gadgets, review",
        "author": {"@type": "Person", "name": f"Creator {n % 50}", "url": f"{base}/u/{n % 50}"},
        "interactionStatistic": [
            {
                "@type": "InteractionCounter",
                "interactionType": "https://schema.org/WatchAction",
                "userInteractionCount": 1000 + n,
            },
            {
                "@type": "InteractionCounter",
                "interactionType": "https://schema.org/LikeAction",
                "userInteractionCount": n,
            },
        ],
        "about": {
            "@type": "Product",
            "name": f"Gadget {n % 97}",
            "url": f"{base}/p/{n % 97}",
            "offers": {"@type": "Offer", "price": f"{n % 97 + 9}.90", "priceCurrency": "USD"},
        },
    }
    filler = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 40 + "</p>"  # ~20 KB pages
    return PAGE.format(
        title=title,
        url=url,
        data=json.dumps(data),
        index=n // LINKS_PER_INDEX,
        description=description,
        filler=filler * 8,
    ).encode("utf-8")


# The TikTok fixtures the `--spider tiktok` crawl serves, cycled (block and list pages left out: a few KB).
TIKTOK_FIXTURES = REPO / "tests" / "fixtures" / "platforms" / "tiktok"
TIKTOK_PAGE_MIN_BYTES = 400_000


class TikTokSite(LocalServer):
    """`pages` TikTok pages at /t/N.html (the big fixtures, cycled) and a robots.txt; `urls_file` lists them."""

    def __init__(self, pages: int, out_dir: str) -> None:
        super().__init__()
        bodies = [
            f.read_bytes()
            for f in sorted(TIKTOK_FIXTURES.glob("*.html"))
            if f.stat().st_size >= TIKTOK_PAGE_MIN_BYTES
        ]
        self.add("/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        urls = [self.add(f"/t/{n}.html", bodies[n % len(bodies)]) for n in range(pages)]
        self.page_bytes = sum(len(bodies[n % len(bodies)]) for n in range(pages)) // max(pages, 1)
        self.urls_file = Path(out_dir) / "tiktok-urls.txt"
        self.urls_file.write_text("\n".join(urls) + "\n", encoding="utf-8")


class Site(LocalServer):
    """The generated pages on the shared local server: a home page, index pages, video pages, robots.txt."""

    def __init__(self, pages: int) -> None:
        super().__init__()
        self.pages = pages
        self.base = self.base_url
        indexes = (pages + LINKS_PER_INDEX - 1) // LINKS_PER_INDEX
        links = "".join(f'<a href="/index/{i}.html">page {i}</a> ' for i in range(indexes))
        self.add("/", f"<html><body>{links}</body></html>")
        self.add("/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
        for i in range(indexes):
            items = range(i * LINKS_PER_INDEX, min(pages, (i + 1) * LINKS_PER_INDEX))
            body = "".join(f'<li><a href="/v/{n}.html">video {n}</a></li>' for n in items)
            self.add(f"/index/{i}.html", f"<html><body><ul>{body}</ul>{links}</body></html>")
        for n in range(pages):
            self.add(f"/v/{n}.html", make_page(n, self.base))


# -- the crawl, run in a child process (Twisted's reactor cannot restart) ------------------------------


def run_child(kind: str, start: str, out_dir: str) -> None:
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.linkextractors import LinkExtractor
    from scrapy.utils.project import get_project_settings

    class BareSpider(scrapy.Spider):
        """Follows every link and yields nothing: Scrapy's own cost of fetching the same pages."""

        name = "bare"
        link_extractor = LinkExtractor(unique=True)

        def __init__(self, urls: str, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self.start_urls = [urls]

        def parse(self, response, **kwargs):
            for link in self.link_extractor.extract_links(response):
                yield scrapy.Request(link.url)

    class FetchSpider(scrapy.Spider):
        """Fetches the listed URLs and yields nothing: the cost of the pages without parsing them."""

        name = "fetch"

        def __init__(self, urls_file: str, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self.start_urls = Path(urls_file).read_text(encoding="utf-8").split()

        def parse(self, response, **kwargs):
            return iter(())

    if kind == "tiktok-old":
        sys.path.insert(0, str(REPO / "bench"))
        import legacy_readers

        legacy_readers.install()

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    for key, value in BENCH_SETTINGS.items():
        settings.set(key, value, priority="cmdline")
    stats_file = Path(out_dir) / f"{kind}-stats.json"
    settings.set("TRENDCART_STATS_FILE", str(stats_file), priority="cmdline")
    if kind != "bare" and kind != "fetch":
        settings.set(
            "FEEDS",
            {str(Path(out_dir) / f"{kind}-items.jsonl"): {"format": "jsonlines", "overwrite": True}},
            priority="cmdline",
        )
    if kind == "jsonld":
        settings.set("TRENDCART_FOLLOW_DEPTH", 2, priority="cmdline")
    # The language detector loads its models on first use (seconds on a busy machine): once per crawl, not
    # per page, so it is loaded before the clock starts rather than charged to the first pages.
    from crawler.language import latin_language

    latin_language("warm up the detector before the crawl")
    process = CrawlerProcess(settings)
    cpu_start = time.process_time()
    if kind.startswith("tiktok") or kind == "fetch":
        # `start` is the URL list; scope 127.0.0.1 keeps the profile page's tiktok.com links unfetched.
        crawler = process.create_crawler("tiktok" if kind != "fetch" else FetchSpider)
        extra = {"scope": "127.0.0.1"} if kind != "fetch" else {}
        process.crawl(crawler, urls_file=start, **extra)
    else:
        crawler = process.create_crawler("jsonld" if kind == "jsonld" else BareSpider)
        process.crawl(crawler, urls=start)
    # CPU from the first response (robots.txt) to the spider's close: the pages' own cost, without the
    # crawler's start-up (middlewares, TLS set-up: the same for every spider, some 0.3-1 CPU-s a crawl).
    marks: dict[str, float] = {}

    def first_response(**kwargs: object) -> None:
        marks.setdefault("first_response", time.process_time())

    def closed(**kwargs: object) -> None:
        marks["closed"] = time.process_time()

    crawler.signals.connect(first_response, signal=signals.response_received)
    crawler.signals.connect(closed, signal=signals.spider_closed)
    process.start()
    cpu_s = time.process_time() - cpu_start
    stats = crawler.stats.get_stats()
    result = {
        "responses": stats.get("response_received_count", 0),
        "items": stats.get("item_scraped_count", 0),
        "elapsed_s": (stats["finish_time"] - stats["start_time"]).total_seconds(),
        "cpu_s": cpu_s,
        "pages_cpu_s": marks["closed"] - marks["first_response"],
        "metarefresh": crawler.settings.getbool("METAREFRESH_ENABLED"),
        "concurrent_items": crawler.settings.getint("CONCURRENT_ITEMS"),
        "errors": {k: v for k, v in stats.items() if "error" in k or "request_failed" in k},
    }
    print("RESULT " + json.dumps(result))


def crawl(kind: str, start: str, out_dir: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, start, out_dir],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            result["pages_per_s"] = result["responses"] / result["elapsed_s"]
            return result
    raise SystemExit(f"{kind} crawl failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def machine() -> dict:
    import scrapy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(row.split()[1])
            for row in Path("/proc/meminfo").read_text().splitlines()
            if row.startswith("MemTotal")
        )
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        ram = "unknown"
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "scrapy": scrapy.__version__,
        "os": platform.platform(),
    }


# Default page count for `--spider tiktok`: ~300 MB served per crawl, several seconds at today's speed.
TIKTOK_PAGES = 600


def report_run(kind: str, run: dict) -> None:
    cpu = f", {1000 * run['cpu_s'] / max(run['responses'], 1):.1f} CPU-ms/page" if "cpu_s" in run else ""
    if "pages_cpu_s" in run:
        cpu += f" ({1000 * run['pages_cpu_s'] / max(run['responses'] - 1, 1):.1f} after start-up)"
    load = f", load {run['load']}" if "load" in run else ""
    print(
        f"{kind:10s} {run['responses']} responses, {run['items']} items, "
        f"{run['elapsed_s']:.2f} s, {run['pages_per_s']:.1f} pages/s{cpu}{load}",
        flush=True,
    )


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def load_1min() -> float:
    return os.getloadavg()[0]


def main_tiktok(pages: int, rounds: int, json_path: Path | None) -> int:
    """`rounds` interleaved rounds of fetch + tiktok-old + tiktok; per-round ratios, their median, the loads."""
    kinds = ("fetch", "tiktok-old", "tiktok")
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    per_round: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp, TikTokSite(pages, tmp) as site:
        for n in range(rounds):
            # Old first in odd rounds, new first in even ones: a load that drifts during a round favours
            # neither side over the run.
            order = ("fetch", "tiktok-old", "tiktok") if n % 2 == 0 else ("fetch", "tiktok", "tiktok-old")
            for kind in order:
                load = round(load_1min(), 1)
                run = crawl(kind, str(site.urls_file), tmp)
                run["load"] = load
                runs[kind].append(run)
                report_run(kind, run)
            old, new = runs["tiktok-old"][-1], runs["tiktok"][-1]
            per_round.append(
                {
                    "round": n + 1,
                    "ratio_pages_per_s": new["pages_per_s"] / old["pages_per_s"],
                    "ratio_cpu_per_page": (old["cpu_s"] / old["responses"])
                    / (new["cpu_s"] / new["responses"]),
                    "ratio_pages_cpu": old["pages_cpu_s"] / new["pages_cpu_s"],
                    "load": [old["load"], new["load"]],
                }
            )
            print(
                f"round {n + 1}: new/old pages/s {per_round[-1]['ratio_pages_per_s']:.2f}x, "
                f"old/new CPU per page {per_round[-1]['ratio_cpu_per_page']:.2f}x "
                f"({per_round[-1]['ratio_pages_cpu']:.2f}x after start-up)",
                flush=True,
            )
        exported = {
            kind: (Path(tmp) / f"{kind}-items.jsonl").read_text(encoding="utf-8").count("\n")
            for kind in kinds[1:]
        }
    median = {kind: statistics.median(r["pages_per_s"] for r in results) for kind, results in runs.items()}
    cpu_ms = {
        kind: statistics.median(1000 * r["cpu_s"] / r["responses"] for r in results)
        for kind, results in runs.items()
    }
    pages_cpu_ms = {
        kind: statistics.median(1000 * r["pages_cpu_s"] / max(r["responses"] - 1, 1) for r in results)
        for kind, results in runs.items()
    }
    summary = {
        "spider": "tiktok",
        "pages": pages,
        "page_bytes_mean": site.page_bytes,
        "rounds": rounds,
        "median_ratio_pages_per_s": statistics.median(r["ratio_pages_per_s"] for r in per_round),
        "median_ratio_cpu_per_page": statistics.median(r["ratio_cpu_per_page"] for r in per_round),
        "median_ratio_pages_cpu": statistics.median(r["ratio_pages_cpu"] for r in per_round),
        "median_pages_per_s": median,
        "median_cpu_ms_per_page": cpu_ms,
        "median_cpu_ms_per_page_after_start_up": pages_cpu_ms,
        "per_round": per_round,
        "exported_lines": exported,
        "runs": runs,
        "machine": machine(),
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    if json_path:
        json_path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


def main_tiktok_parse(rounds: int, json_path: Path | None) -> int:
    """`TikTokParser.parse` alone, in this process: CPU per page of each big fixture, old readers and new
    alternating `rounds` times, the least of each (the page text decoded beforehand, as the spider's Page is)."""
    sys.path.insert(0, str(REPO / "bench"))
    import legacy_readers

    from crawler.parsers.base import Page
    from crawler.parsers.platforms import _common, tiktok

    files = [f for f in sorted(TIKTOK_FIXTURES.glob("*.html")) if f.stat().st_size >= TIKTOK_PAGE_MIN_BYTES]
    shipped = (_common.script_text, _common.assigned_json, tiktok.assigned_json, tiktok.TikTokParser.parse)

    def use_shipped() -> None:
        _common.script_text, _common.assigned_json, tiktok.assigned_json, tiktok.TikTokParser.parse = shipped

    parser = tiktok.TikTokParser()
    best = {"old": [float("inf")] * len(files), "new": [float("inf")] * len(files)}
    load = round(load_1min(), 1)
    for _ in range(rounds):
        for side in ("old", "new"):
            legacy_readers.install() if side == "old" else use_shipped()
            for n, path in enumerate(files):
                page = Page(url="https://www.tiktok.com/x", body=path.read_bytes(), content_type="text/html")
                page.text  # noqa: B018 - decoded before the clock, as a response's text would be
                start = time.process_time()
                parser.parse(page)
                best[side][n] = min(best[side][n], time.process_time() - start)
    use_shipped()
    for n, path in enumerate(files):
        print(f"{path.name:34s} old {1000 * best['old'][n]:6.2f}  new {1000 * best['new'][n]:6.2f} CPU-ms")
    mean = {side: 1000 * sum(values) / len(values) for side, values in best.items()}
    summary = {
        "pages": [f.name for f in files],
        "rounds": rounds,
        "mean_cpu_ms_per_page": mean,
        "ratio_old_to_new": mean["old"] / mean["new"],
        "load_1min": [load, round(load_1min(), 1)],
        "machine": machine(),
    }
    print(json.dumps(summary, indent=2))
    if json_path:
        json_path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


def main_item_workers(json_path: Path | None) -> int:
    """Scrapy's per-response item workers (`_parallel_asyncio`, CONCURRENT_ITEMS tasks started for every
    response): CPU per response yielding 3 items, for 100 (Scrapy's default) and 16 (crawler/settings.py)."""
    import asyncio

    from scrapy.utils.asyncio import _parallel_asyncio

    async def one_item(item: int) -> None:
        return None

    async def measure() -> dict[str, list[float]]:
        found: dict[str, list[float]] = {"100": [], "16": []}
        for _ in range(3):
            for count in (100, 16):
                start = time.process_time()
                for _ in range(500):
                    await _parallel_asyncio([1, 2, 3], count, one_item)
                found[str(count)].append(1000 * (time.process_time() - start) / 500)
        return found

    load = round(load_1min(), 1)
    found = asyncio.run(measure())
    summary = {
        "cpu_ms_per_response": {count: min(values) for count, values in found.items()},
        "load_1min": [load, round(load_1min(), 1)],
    }
    print(json.dumps(summary, indent=2))
    if json_path:
        json_path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        run_child(*sys.argv[2:5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spider", choices=("jsonld", "tiktok"), default="jsonld")
    parser.add_argument("--pages", type=int, help="pages to crawl (default: 2000 jsonld, 600 tiktok)")
    parser.add_argument(
        "--rounds",
        type=int,
        help="rounds (default 2 jsonld: the best of each; 5 tiktok: interleaved, the median ratio)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--parse-only", action="store_true", help="with --spider tiktok: TikTokParser.parse alone, in-process"
    )
    parser.add_argument(
        "--item-workers",
        action="store_true",
        help="Scrapy's item workers per response, CONCURRENT_ITEMS 100 vs 16",
    )
    args = parser.parse_args()
    if args.item_workers:
        return main_item_workers(args.json)
    if args.spider == "tiktok" and args.parse_only:
        return main_tiktok_parse(args.rounds or 15, args.json)
    if args.spider == "tiktok":
        return main_tiktok(args.pages or TIKTOK_PAGES, args.rounds or 5, args.json)
    pages = args.pages or 2000
    runs: dict[str, list[dict]] = {"bare": [], "jsonld": []}
    with Site(pages) as site, tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds or 2):
            for kind in ("bare", "jsonld"):
                runs[kind].append(crawl(kind, site.base + "/", tmp))
                report_run(kind, runs[kind][-1])
        exported = sum(1 for _ in open(Path(tmp) / "jsonld-items.jsonl", encoding="utf-8"))
    best = {kind: max(r["pages_per_s"] for r in results) for kind, results in runs.items()}
    summary = {
        "pages": pages,
        "rounds": args.rounds or 2,
        "best_pages_per_s": best,
        "ratio_jsonld_to_bare": best["jsonld"] / best["bare"],
        "exported_lines": exported,
        "runs": runs,
        "machine": machine(),
    }
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
