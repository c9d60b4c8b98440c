"""Whether two product offers are the same product: title features, hard conflicts, evidence, a score."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Units of a size, by dimension: "380ml" and "0.38l" are one size; "380ml" and "500ml" are two products.
UNITS: dict[str, tuple[str, float]] = {
    "ml": ("volume", 1.0),
    "毫升": ("volume", 1.0),
    "l": ("volume", 1000.0),
    "升": ("volume", 1000.0),
    "g": ("mass", 1.0),
    "克": ("mass", 1.0),
    "kg": ("mass", 1000.0),
    "千克": ("mass", 1000.0),
    "公斤": ("mass", 1000.0),
    "oz": ("ounce", 1.0),
    "inch": ("length", 25.4),
    "in": ("length", 25.4),
    "英寸": ("length", 25.4),
    "寸": ("length", 25.4),
    "cm": ("length", 10.0),
    "厘米": ("length", 10.0),
    "mm": ("length", 1.0),
    "毫米": ("length", 1.0),
    "gb": ("storage", 1.0),
    "g内存": ("storage", 1.0),
    "tb": ("storage", 1024.0),
    "w": ("power", 1.0),
    "瓦": ("power", 1.0),
    "mah": ("charge", 1.0),
    "毫安": ("charge", 1.0),
    "码": ("shoe", 1.0),
    "寸屏": ("length", 25.4),
}
_UNIT_ALT = "|".join(sorted((re.escape(u) for u in UNITS), key=len, reverse=True))
SIZE_RE = re.compile(rf"(\d+(?:\.\d+)?)\s*({_UNIT_ALT})(?![a-z])")
# A model year: 2019-2039 alone or as 款/年款/model; a year is a different product (the 2024 and 2025 model).
YEAR_RE = re.compile(r"(?<!\d)(20[1-3]\d)(?:\s*(?:款|年款|年|model|edition|version))?(?!\d)")
# Packs: "pack of 3", "3-pack", "3 pcs", "3支装"; one and three of a thing are two offers.
PACK_RE = re.compile(
    r"(?:pack\s+of\s+(\d+))|(?:(\d+)\s*[- ]?\s*(?:pack|pcs|pieces|count|支装|件套|片装|只装|个装|瓶装|盒装|双装|颗装|包装|袋装|粒装|支|片|只|瓶|颗|袋))"
)
# Generations: "gen 2", "2nd gen", "第二代", "2代".
GEN_RE = re.compile(
    r"(?:gen(?:eration)?\s*(\d+))|(?:(\d+)(?:st|nd|rd|th)\s*gen)|(?:第?([一二三四五六七八九\d])代)"
)
_ZH_DIGITS = {
    "一": "1",
    "二": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "八": "8",
    "九": "9",
}
# Colours, English words and Chinese "X色" forms, to one name. A black and a white blender are two offers.
COLOURS: dict[str, str] = {
    "black": "black",
    "黑色": "black",
    "white": "white",
    "白色": "white",
    "pink": "pink",
    "粉色": "pink",
    "red": "red",
    "红色": "red",
    "blue": "blue",
    "蓝色": "blue",
    "navy": "blue",
    "green": "green",
    "绿色": "green",
    "grey": "grey",
    "gray": "grey",
    "灰色": "grey",
    "silver": "silver",
    "银色": "silver",
    "gold": "gold",
    "金色": "gold",
    "purple": "purple",
    "紫色": "purple",
    "yellow": "yellow",
    "黄色": "yellow",
    "beige": "beige",
    "米色": "beige",
    "orange": "orange",
    "橙色": "orange",
    "graphite": "graphite",
    "石墨色": "graphite",
}


def _alternation(words: Mapping[str, str]) -> re.Pattern[str]:
    """One pattern for a word list: a Latin word stands alone (not inside another word, but may touch a
    Chinese character: "扫地机器人pro"), a Chinese word matches anywhere."""
    parts = (
        rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])" if w.isascii() else re.escape(w)
        for w in sorted(words, key=len, reverse=True)
    )
    return re.compile("|".join(parts))


_COLOUR_RE = _alternation(COLOURS)
# Variant words: "AirPods" and "AirPods Pro" are two products; so are "max" and "mini" editions.
VARIANTS: dict[str, str] = {
    "pro": "pro",
    "max": "max",
    "plus": "plus",
    "mini": "mini",
    "lite": "lite",
    "ultra": "ultra",
    "air": "air",
    "se": "se",
    "青春版": "lite",
    "增强版": "plus",
    "旗舰版": "ultra",
    "迷你": "mini",
    "迷你版": "mini",
    "标准版": "standard",
    "standard": "standard",
}
_VARIANT_RE = _alternation(VARIANTS)
# A model number: a token with letters and digits ("x200", "wh-1000xm5", "k8"), not a size, year or pack.
MODEL_RE = re.compile(r"(?<![a-z0-9])(?=[a-z0-9-]*[a-z])(?=[a-z0-9-]*\d)[a-z0-9]+(?:-[a-z0-9]+)*(?![a-z0-9])")
# Words of the seller, not of the product: they say nothing about which product it is.
NOISE_WORDS = frozenset(
    "new hot sale best free shipping official store original genuine authentic viral tiktok made me buy it "
    "must have trending 2x deal flash limited offer the a an for with and of in on to by amp top quality "
    "upgraded upgrade latest review unboxing worth hype".split()
)
NOISE_ZH = (
    "爆款",
    "热卖",
    "正品",
    "官方",
    "旗舰店",
    "包邮",
    "新款",
    "推荐",
    "好物",
    "限时",
    "秒杀",
    "抢购",
    "直播间",
    "同款",
)
_BRACKETS_RE = re.compile(r"[【\[][^】\]]{0,12}[】\]]")
_PUNCT_RE = re.compile(r"[^\w\s.-]+")
_CJK_RE = re.compile(r"[\u3400-\u9fff]+")
_WORD_RE = re.compile(r"[a-z][a-z0-9-]*|\d+(?:\.\d+)?")
_LATIN_RE = re.compile(r"[a-z]{2,}")

# Decision weights and threshold, chosen on tests/fixtures/products/pairs.jsonl with bench/bench_matching.py
# (docs/PRODUCTS.md "Matching"): a pair is the same product when its score reaches SAME_THRESHOLD.
# score = cosine of the title embeddings + TOKEN_WEIGHT x token overlap + MODEL_BONUS (a shared model
# number) + SHOP_BONUS (same shop or brand) - PRICE_PENALTY x log2 of the price ratio beyond PRICE_FREE_RATIO.
SAME_THRESHOLD = 0.40
TOKEN_WEIGHT = 0.35
MODEL_BONUS = 0.25
SHOP_BONUS = 0.05
OWN_WORDS_PENALTY = 0.45
PRICE_FREE_RATIO = 1.6  # list prices of one product differ by platform, coupon and currency rounding
PRICE_PENALTY = 0.25
PRICE_CONFLICT_RATIO = 4.0  # four times the price: not one product (a bundle, a part, another tier)


@dataclass(frozen=True)
class Features:
    """What a title says about which product it is."""

    text: str  # normalised title
    latin: frozenset[str]  # Latin words without seller noise (names of shades, lines, brands)
    tokens: frozenset[str]  # words, model numbers and CJK bigrams, without seller noise
    models: frozenset[str]
    sizes: frozenset[tuple[str, float]]  # (dimension, value in the base unit)
    colours: frozenset[str]
    years: frozenset[str]
    packs: frozenset[str]
    gens: frozenset[str]
    variants: frozenset[str]


@dataclass(frozen=True)
class Offer:
    """One product as one source shows it: a product document, or a product known from a link."""

    id: str
    title: str
    platform: str | None = None
    price: float | None = None
    currency: str | None = None
    shop: str | None = None
    brand: str | None = None
    url: str | None = None
    observed_at: str | None = None  # when this price was seen (the document's latest observation)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Offer:
        return cls(
            id=str(doc["id"]),
            title=str(doc.get("title") or ""),
            platform=doc.get("platform"),
            price=doc.get("price"),
            currency=doc.get("currency"),
            shop=doc.get("shop"),
            brand=doc.get("brand"),
            url=doc.get("url"),
            observed_at=doc.get("last_seen") or doc.get("observed_at"),
        )


@dataclass
class Match:
    """The verdict on a pair: same or not, a score, a confidence in [0, 1] and the evidence behind it."""

    same: bool
    score: float
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)


def normalise(title: str) -> str:
    """NFKC, lower case, seller noise in brackets and Chinese marketing words out, punctuation to spaces."""
    text = unicodedata.normalize("NFKC", title or "").lower()
    text = _BRACKETS_RE.sub(" ", text)
    for word in NOISE_ZH:
        text = text.replace(word, " ")
    text = _PUNCT_RE.sub(" ", text)
    return " ".join(text.split())


def features(title: str) -> Features:
    """The features of one title (pure; cheap enough for 100k titles)."""
    text = normalise(title)
    sizes = frozenset((UNITS[u][0], round(float(v) * UNITS[u][1], 3)) for v, u in SIZE_RE.findall(text))
    years = frozenset(YEAR_RE.findall(text))
    packs = frozenset(a or b for a, b in PACK_RE.findall(text) if (a or b) and (a or b) != "1")
    gens = frozenset(_ZH_DIGITS.get(g, g) for groups in GEN_RE.findall(text) for g in groups if g)
    colours = frozenset(COLOURS[m.group(0)] for m in _COLOUR_RE.finditer(text))
    variants = frozenset(VARIANTS[m.group(0)] for m in _VARIANT_RE.finditer(text))
    size_text = {f"{v}{u}" for v, u in SIZE_RE.findall(text)}
    models = frozenset(
        m
        for m in MODEL_RE.findall(text)
        if m not in size_text and not SIZE_RE.fullmatch(m) and not PACK_RE.fullmatch(m) and len(m) >= 2
    )
    words = {w for w in _WORD_RE.findall(text) if w not in NOISE_WORDS and len(w) > 1}
    bigrams = {run[i : i + 2] for run in _CJK_RE.findall(text) for i in range(max(len(run) - 1, 1))}
    return Features(
        text=text,
        latin=frozenset(w for w in _LATIN_RE.findall(text) if w not in NOISE_WORDS),
        tokens=frozenset(words | bigrams | models),
        models=models,
        sizes=sizes,
        colours=colours,
        years=years,
        packs=packs,
        gens=gens,
        variants=variants,
    )


def conflicts(a: Features, b: Features) -> list[str]:
    """The attributes on which two titles disagree (both state one, and they differ): each one is a
    different product, whatever the rest says (other size, colour, model year, pack, generation, edition)."""
    found = []
    dims_a = {d for d, _ in a.sizes}
    for dim in dims_a & {d for d, _ in b.sizes}:
        if {v for d, v in a.sizes if d == dim}.isdisjoint({v for d, v in b.sizes if d == dim}):
            found.append(f"size ({dim})")
    for name in ("colours", "years", "packs", "gens"):
        left, right = getattr(a, name), getattr(b, name)
        if left and right and left.isdisjoint(right):
            found.append(name.rstrip("s") if name != "colours" else "colour")
    # An edition word can be part of a name ("Air Force 1", "Mini Drone") that the other language spells
    # out: editions conflict when both titles name editions, or when they share the model number.
    # out: editions conflict when both titles name editions, share the model number, or the title without
    # one is written in Latin words too (then it would have said "Pro").
    lacking = b if a.variants else a
    if a.variants != b.variants and ((a.variants and b.variants) or (a.models & b.models) or lacking.latin):
        found.append("edition")
    if a.models and b.models and a.models.isdisjoint(b.models):
        found.append("model number")
    return found


def token_overlap(a: Features, b: Features) -> float:
    """Overlap coefficient of the title tokens: shared / the smaller set (a short title inside a long one)."""
    if not a.tokens or not b.tokens:
        return 0.0
    return len(a.tokens & b.tokens) / min(len(a.tokens), len(b.tokens))


def price_ratio(
    a: Offer, b: Offer, convert: Callable[[float, str, str], float | None] | None = None
) -> float | None:
    """Higher price / lower price, in one currency (`convert(amount, from, to)`); None when unknown."""
    if a.price is None or b.price is None or a.price <= 0 or b.price <= 0:
        return None
    pa, pb = float(a.price), float(b.price)
    if (a.currency or "") != (b.currency or ""):
        if convert is None or not a.currency or not b.currency:
            return None
        pb_conv = convert(pb, b.currency, a.currency)
        if pb_conv is None:
            return None
        pb = pb_conv
    return max(pa, pb) / min(pa, pb)


def _same_text(left: str | None, right: str | None) -> bool:
    return bool(left and right and normalise(left) == normalise(right))


def match(
    a: Offer,
    b: Offer,
    cosine: float,
    fa: Features | None = None,
    fb: Features | None = None,
    convert: Callable[[float, str, str], float | None] | None = None,
) -> Match:
    """The verdict on offers `a` and `b` given the cosine of their title embeddings."""
    fa, fb = fa or features(a.title), fb or features(b.title)
    evidence: dict[str, Any] = {"cosine": round(float(cosine), 4)}
    if a.url and b.url and a.url == b.url:
        evidence["rule"] = "same url"
        return Match(True, 2.0, 1.0, evidence)
    found = conflicts(fa, fb)
    ratio = price_ratio(a, b, convert)
    if ratio is not None:
        evidence["price_ratio"] = round(ratio, 3)
        if ratio >= PRICE_CONFLICT_RATIO:
            found.append("price")
    if found:
        evidence["conflicts"] = found
        evidence["rule"] = "conflict: " + ", ".join(found)
        return Match(False, 0.0, 0.99, evidence)
    overlap = token_overlap(fa, fb)
    shared_models = sorted(fa.models & fb.models)
    score = float(cosine) + TOKEN_WEIGHT * overlap
    evidence["token_overlap"] = round(overlap, 4)
    if shared_models:
        evidence["model_numbers"] = shared_models
        score += MODEL_BONUS
    if _same_text(a.shop, b.shop) or _same_text(a.brand, b.brand):
        evidence["same_shop"] = True
        score += SHOP_BONUS
    # Each title has Latin words the other lacks ("Ruby Woo" and "Chili", two shades of one lipstick): a
    # translated title has none of its own (its Latin words are the brand and model, found in the other).
    own_a, own_b = fa.latin - fb.latin - fa.models, fb.latin - fa.latin - fb.models
    if own_a and own_b:
        evidence["own_words"] = [sorted(own_a), sorted(own_b)]
        score -= OWN_WORDS_PENALTY
    if ratio is not None and ratio > PRICE_FREE_RATIO:
        score -= PRICE_PENALTY * math.log2(ratio / PRICE_FREE_RATIO)
    same = score >= SAME_THRESHOLD
    evidence["score"] = round(score, 4)
    evidence["rule"] = f"score {score:.2f} {'>=' if same else '<'} {SAME_THRESHOLD:.2f}"
    # Confidence: how far from the threshold, squashed to (0.5, 1): 0.5 at the threshold, ~0.95 at 0.3 away.
    confidence = 1.0 / (1.0 + math.exp(-10.0 * abs(score - SAME_THRESHOLD)))
    return Match(same, round(score, 4), round(confidence, 4), evidence)
