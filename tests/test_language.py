"""The language guess (issue 17 item 7): Latin-script languages other than English, by lingua; its memo and
preload (issue 16), and the log level of dropped copies that the crawl benchmark measured."""

from __future__ import annotations

import pytest

from crawler.normalize import guess_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Guten Abend! Heute spielen wir zusammen", "de"),
        ("Winterjacke für Damen im Test", "de"),
        ("Le meilleur gâteau au chocolat du monde", "fr"),
        ("Best wireless earbuds of 2026 reviewed", "en"),
        ("拜年祭快板电音现场版", "zh"),
        ("今日のおすすめ商品です", "ja"),
        ("X200 Blender", "en"),  # ambiguous (English or German): the plain guess stays
        ("OK go", "en"),  # too short for lingua
        ("ab", None),
        (None, None),
    ],
)
def test_guess_language(text, language):
    assert guess_language(text) == language


def test_repeated_texts_get_the_same_answer_from_the_memo():
    from crawler.language import latin_language

    texts = ["Guten Abend! Heute spielen wir zusammen", "Le meilleur gâteau au chocolat du monde"]
    first = [latin_language(text) for text in texts]
    before = latin_language.cache_info().hits
    assert [latin_language(text) for text in texts] == first == ["de", "fr"]
    assert latin_language.cache_info().hits == before + 2


def test_the_pipeline_preloads_the_models_only_when_asked():
    from scrapy.utils.test import get_crawler

    from crawler import language
    from crawler.pipelines import NormalisePipeline

    off = NormalisePipeline.from_crawler(get_crawler())
    on = NormalisePipeline.from_crawler(get_crawler(settings_dict={"TRENDCART_LANGUAGE_PRELOAD": True}))
    assert (off.preload_language, on.preload_language) == (False, True)
    on.open_spider()
    assert language._detector.cache_info().currsize == 1  # built; the models are loaded by its first call


def test_a_duplicate_is_dropped_at_debug_and_an_invalid_item_at_the_default_level():
    from scrapy.exceptions import DropItem
    from scrapy.utils.test import get_crawler

    from crawler.items import VideoItem
    from crawler.pipelines import DedupePipeline, ValidatePipeline

    class Spider:
        crawler = get_crawler()

    dedupe, item = DedupePipeline(), VideoItem(id="web:video:shop.example/v/1", platform="web", title="T")
    dedupe.process_item(item, Spider)
    with pytest.raises(DropItem) as duplicate:
        dedupe.process_item(item, Spider)
    with pytest.raises(DropItem) as invalid:
        ValidatePipeline().process_item({"id": 3}, Spider)
    assert duplicate.value.log_level == "DEBUG"  # a copy is expected: no item repr at WARNING per copy
    assert getattr(invalid.value, "log_level", None) is None  # Scrapy's DEFAULT_DROPITEM_LOG_LEVEL
    assert Spider.crawler.stats.get_value("trendcart/dropped/duplicate") == 1
