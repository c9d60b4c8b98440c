"""Scrapy settings for trendcart: polite by default (robots.txt, AutoThrottle, honest User-Agent)."""

BOT_NAME = "trendcart"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# An honest User-Agent that says who we are and where to read about us.
USER_AGENT = "trendcart/0.1 (+https://github.com/trendcart/trendcart; open-source trend research crawler)"

# Politeness. Users may set ROBOTSTXT_OBEY=False explicitly for their own sites (-s ROBOTSTXT_OBEY=False).
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Items of one response handled at once. Scrapy starts this many worker tasks for every response whatever
# it yields (default 100: 0.40 CPU-ms a response, 16: 0.08); the pipelines are synchronous, so more buy nothing.
CONCURRENT_ITEMS = 16
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# Failures: a few retries with Scrapy's backoff, a timeout that does not hang a crawl.
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
# Pages larger than this are not product pages; refuse them instead of filling memory.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# Let error responses reach the spider so it can count them with their reason (it never parses them).
HTTPERROR_ALLOW_ALL = False

# Optional HTTP cache for development (-s HTTPCACHE_ENABLED=True); off by default.
HTTPCACHE_ENABLED = False
HTTPCACHE_DIR = "httpcache"
HTTPCACHE_EXPIRATION_SECS = 6 * 3600

# Resumable crawls: `trendcart crawl ... --job-dir crawls/NAME-1` (or -s JOBDIR=...); one Ctrl-C stops
# cleanly, the same command resumes (docs/CRAWLING.md, "Stopping and resuming").

ITEM_PIPELINES = {
    "crawler.pipelines.ValidatePipeline": 100,
    "crawler.pipelines.NormalisePipeline": 200,
    "crawler.pipelines.DedupePipeline": 300,
    "crawler.pipelines.IndexPipeline": 800,  # off unless TRENDCART_INDEX_STORE is set
    "crawler.pipelines.JsonFormPipeline": 900,
}

EXTENSIONS = {
    "crawler.extensions.CrawlSummary": 500,
    "crawler.run.CrawlProgress": 510,  # off unless TRENDCART_PROGRESS_FILE is set (the CLI's progress display)
    "crawler.extensions.ParentWatch": 520,  # off unless TRENDCART_PARENT_PID is set (crawler/run.py sets it)
}

# A shared crawl frontier in Redis when TRENDCART_FRONTIER (or REDIS_URL) is set: crawler/frontier.py.
ADDONS = {"crawler.frontier.FrontierAddon": 0}
TRENDCART_FRONTIER = ""
# Several frontiers on one Redis: the keys' name (default: the spider's name).
TRENDCART_FRONTIER_NAME = ""

FEED_EXPORT_ENCODING = "utf-8"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"

# trendcart's own settings.
# Follow links found on pages (JSON-LD spider) up to this depth; 0 means only the start URLs.
TRENDCART_FOLLOW_DEPTH = 0
# Where CrawlSummary writes the final stats as JSON (used by the CLI and tests); empty disables it.
TRENDCART_STATS_FILE = ""
# IndexPipeline (off unless TRENDCART_INDEX_STORE is set): batch size for embedding and writing.
TRENDCART_INDEX_STORE = ""
TRENDCART_INDEX_BATCH = 64
# A fixed observation time (ISO 8601) instead of the clock: only for replays such as `trendcart demo`.
TRENDCART_NOW = ""
# CrawlProgress writes the running counters here every TRENDCART_PROGRESS_INTERVAL seconds (set by crawler/run.py).
TRENDCART_PROGRESS_FILE = ""
TRENDCART_PROGRESS_INTERVAL = 1.0
# ParentWatch: the pid of the process that started the crawl (set by crawler/run.py); when it is gone the
# crawl closes (reason `parent_gone`). Checked every TRENDCART_PARENT_POLL_S seconds.
TRENDCART_PARENT_PID = 0  # 0: not set (an int, since ParentWatch reads it with getint)
TRENDCART_PARENT_POLL_S = 1.0
