"""indexer.formatting: one format per quantity (counts, rates, percents, prices, relevance)."""

from indexer import formatting as f


def test_each_quantity_has_one_format():
    assert f.count(1234567) == "1,234,567" and f.count(12.0) == "12" and f.count(None) == f.MISSING
    assert f.rate(765.94) == "765.9" and f.rate(1998) == "1,998.0" and f.rate(float("nan")) == f.MISSING
    assert f.percent(12.345) == "12.3%" and f.percent(-3.0, signed=True) == "-3.0%"
    assert f.percent(3, signed=True) == "+3.0%" and f.share(0.256) == "25.6%"
    assert f.price(69.5, "CNY") == "69.50 CNY" and f.price(1234.5) == "1,234.50"
    assert f.score(1.23456) == "1.23" and f.confidence(0.987) == "0.99"
    assert f.megabytes(2_500_000) == "2.5 MB"
    assert f.count(True) == f.MISSING  # a boolean is not a count


def test_relevance_is_relative_to_the_best_hit():
    assert f.relevance(0.0323, 0.0323) == 100 and f.relevance(0.016, 0.032) == 50
    assert f.relevance(0.1, 0) is None and f.relevance(None, 1) is None
    assert [f.relevance_word(p) for p in (100, 80, 79, 50, 10, None)] == [
        "strong",
        "strong",
        "good",
        "good",
        "weak",
        f.MISSING,
    ]
