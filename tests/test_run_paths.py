"""crawler.run launches `scrapy crawl` in the repository root: relative paths given from elsewhere must still work."""

import json
from pathlib import Path

from crawler.run import run_spider

PAGE = Path(__file__).parent / "fixtures" / "standards" / "vimeo-videoobject.html"


def test_relative_paths_resolve_against_the_callers_directory(http_server, tmp_path, monkeypatch):
    url = http_server.add_file("/run-paths/vimeo.html", PAGE)
    monkeypatch.chdir(tmp_path)
    Path("lists").mkdir()
    Path("lists/urls.txt").write_text(url + "\n", encoding="utf-8")
    result = run_spider(
        "jsonld",
        {"urls_file": "lists/urls.txt"},
        out="out/items.jsonl",
        workdir="work",
        settings={"AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0"},
    )
    assert result.returncode == 0
    lines = (tmp_path / "out" / "items.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["web:video:vimeo.com/311983548"]
    assert (tmp_path / "work" / "jsonld.log").is_file()
