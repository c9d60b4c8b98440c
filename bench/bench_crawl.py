"""Pages per second through the whole Scrapy stack: the `jsonld` spider vs a bare link-following spider.

    python bench/bench_crawl.py [--pages 2000] [--rounds 2]

Generates the pages (each with a schema.org VideoObject and a linked Product), serves them from the
shared local server on 127.0.0.1 (`crawler/localserver.py`), then crawls the same pages with each spider
in turn, each in its own `scrapy` process with the project's settings (robots.txt, pipelines, feed
export) except for politeness delays, which would measure the delay rather than the stack. Results go to
stdout (and --json PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
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

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    for key, value in BENCH_SETTINGS.items():
        settings.set(key, value, priority="cmdline")
    stats_file = Path(out_dir) / f"{kind}-stats.json"
    settings.set("TRENDCART_STATS_FILE", str(stats_file), priority="cmdline")
    if kind == "jsonld":
        settings.set(
            "FEEDS",
            {str(Path(out_dir) / "items.jsonl"): {"format": "jsonlines", "overwrite": True}},
            priority="cmdline",
        )
        settings.set("TRENDCART_FOLLOW_DEPTH", 2, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("jsonld" if kind == "jsonld" else BareSpider)
    process.crawl(crawler, urls=start)
    process.start()
    stats = crawler.stats.get_stats()
    result = {
        "responses": stats.get("response_received_count", 0),
        "items": stats.get("item_scraped_count", 0),
        "elapsed_s": (stats["finish_time"] - stats["start_time"]).total_seconds(),
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


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        run_child(*sys.argv[2:5])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument(
        "--rounds", type=int, default=2, help="alternating rounds; the best of each is reported"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"bare": [], "jsonld": []}
    with Site(args.pages) as site, tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for kind in ("bare", "jsonld"):
                runs[kind].append(crawl(kind, site.base + "/", tmp))
                print(
                    f"{kind:7s} {runs[kind][-1]['responses']} responses, {runs[kind][-1]['items']} items, "
                    f"{runs[kind][-1]['elapsed_s']:.2f} s, {runs[kind][-1]['pages_per_s']:.0f} pages/s",
                    flush=True,
                )
        exported = sum(1 for _ in open(Path(tmp) / "items.jsonl", encoding="utf-8"))
    best = {kind: max(r["pages_per_s"] for r in results) for kind, results in runs.items()}
    summary = {
        "pages": args.pages,
        "rounds": args.rounds,
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
