"""Product matching on the labelled set, and grouping speed at scale: `python bench/bench_matching.py`.

Embeds the normalised titles of tests/fixtures/products/offers.jsonl with the default model, judges every
pair of pairs.jsonl with indexer.product_match.match (ECB conversion for prices in two currencies) and
prints pairwise precision, recall and F1, errors by pair kind, a sweep of thresholds, and a split-half
check (threshold chosen on one half, measured on the other). `--scale N` then groups N generated product
documents (title vectors: the labelled offers' vectors with noise, so that neighbours look like real
ones) with indexer.products.group_offers, from scratch and then incrementally with 1% new documents.
Options: --scale N (default 0: skip), --json."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from indexer import product_match as pm  # noqa: E402
from indexer.currency import convert_or_none  # noqa: E402

SET = ROOT / "tests" / "fixtures" / "products"
SWEEP = (0.3, 0.35, 0.4, 0.45, 0.5, 0.6)


def load() -> tuple[list[dict], list[dict]]:
    read = lambda name: [json.loads(line) for line in (SET / name).read_text("utf-8").splitlines()]  # noqa: E731
    return read("offers.jsonl"), read("pairs.jsonl")


def title_vectors(offers: list[dict], embedder) -> dict[str, np.ndarray]:
    vectors = np.asarray(
        embedder.embed_documents([pm.normalise(o["title"]) for o in offers]), dtype=np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return {o["id"]: v for o, v in zip(offers, vectors, strict=True)}


def scores(offers: list[dict], pairs: list[dict], embedder) -> list[tuple[dict, pm.Match]]:
    by_id = {o["id"]: o for o in offers}
    vec = title_vectors(offers, embedder)
    judged = []
    for pair in pairs:
        a, b = pm.Offer.from_doc(by_id[pair["a"]]), pm.Offer.from_doc(by_id[pair["b"]])
        judged.append((pair, pm.match(a, b, float(vec[a.id] @ vec[b.id]), convert=convert_or_none)))
    return judged


def metrics(judged: list[tuple[dict, pm.Match]], threshold: float = pm.SAME_THRESHOLD) -> dict:
    said = [
        (p["same"], m.same if threshold == pm.SAME_THRESHOLD else m.score >= threshold) for p, m in judged
    ]
    tp = sum(1 for truth, guess in said if truth and guess)
    fp = sum(1 for truth, guess in said if not truth and guess)
    fn = sum(1 for truth, guess in said if truth and not guess)
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return {"pairs": len(said), "tp": tp, "fp": fp, "fn": fn, "precision": round(precision, 4),
            "recall": round(recall, 4), "f1": round(f1, 4), "threshold": threshold}  # fmt: skip


def evaluate(offers: list[dict], pairs: list[dict], embedder) -> dict:
    """Pairwise precision and recall of the matcher on the labelled set (what the test asserts)."""
    return metrics(scores(offers, pairs, embedder))


def split_half(judged: list[tuple[dict, pm.Match]]) -> dict:
    rng = random.Random(7)
    shuffled = judged[:]
    rng.shuffle(shuffled)
    tune, held = shuffled[: len(judged) // 2], shuffled[len(judged) // 2 :]
    best = max(SWEEP, key=lambda t: (metrics(tune, t)["precision"] >= 0.95, metrics(tune, t)["f1"]))
    return {"chosen_on_half": best, "held_out": metrics(held, best)}


def scale(n: int, offers: list[dict], embedder) -> dict:
    """Group n generated offers: 80% distinct products (near the labelled titles' vectors, each with its own
    size in grams), 20% second listings of one of them (the same title, a nearby vector). Measures the full
    grouping of 99%, then the incremental grouping of the last 1%, the share of second listings found with
    their first, the share of distinct products left apart, and the inverted file's recall of the exact
    nearest neighbours."""
    from indexer import products

    rng = np.random.default_rng(13)
    seeds = np.stack(list(title_vectors(offers, embedder).values()))
    titles = [o["title"] for o in offers]
    n_base = int(n * 0.8)
    vectors = np.empty((n, seeds.shape[1]), dtype=np.float32)
    vectors[:n_base] = seeds[np.arange(n_base) % len(seeds)] + rng.normal(0, 0.03, (n_base, seeds.shape[1]))
    twin_of = rng.integers(0, n_base, n - n_base)
    vectors[n_base:] = vectors[twin_of] + rng.normal(0, 0.01, (n - n_base, seeds.shape[1]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # each distinct product states its own size (a near miss of its neighbours); a second listing repeats it
    names = [f"{titles[i % len(titles)]} {100 + i}g" for i in range(n_base)]
    names += [f"{titles[b % len(titles)]} {100 + b}g" for b in twin_of]
    generated = [pm.Offer(f"web:product:g{i}", names[i], "web", 10.0 + i % 7, "USD") for i in range(n)]
    order = rng.permutation(n)
    generated, vectors = [generated[i] for i in order], vectors[order]
    fresh = int(n * 0.99)
    started = time.perf_counter()
    first = products.group_offers(generated[:fresh], vectors[:fresh], range(fresh), {})
    full_s = time.perf_counter() - started
    existing = {k: g for k, (g, _, _) in first.items()}
    started = time.perf_counter()
    final = products.group_offers(generated, vectors, range(fresh, n), existing)
    incremental_s = time.perf_counter() - started
    group = {k: g for k, (g, _, _) in final.items()}
    found = np.mean(
        [group[f"web:product:g{n_base + t}"] == group[f"web:product:g{b}"] for t, b in enumerate(twin_of)]
    )
    sizes: dict[str, int] = {}
    for g in group.values():
        sizes[g] = sizes.get(g, 0) + 1
    base_groups = {group[f"web:product:g{i}"] for i in range(n_base)}
    sample = list(range(0, n, max(n // 500, 1)))
    approx = products._neighbours(vectors, sample, products.NEIGHBOURS)
    limit, products.EXACT_LIMIT = products.EXACT_LIMIT, n + 1
    exact = products._neighbours(vectors, sample, products.NEIGHBOURS)
    products.EXACT_LIMIT = limit
    recall = np.mean([len({j for j, _ in approx[r][:5]} & {j for j, _ in exact[r][:5]}) / 5 for r in sample])
    return {"documents": n, "full_s": round(full_s, 1), "full_documents": fresh, "incremental_new": n - fresh,
            "incremental_s": round(incremental_s, 1), "second_listings_found": round(float(found), 4),
            "distinct_products_apart": round(len(base_groups) / n_base, 4), "largest_group": max(sizes.values()),
            "ivf_recall_of_exact_top5": round(float(recall), 4)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from indexer.embedder import DEFAULT_MODEL_NAME, Embedder

    embedder = Embedder(DEFAULT_MODEL_NAME, batch_size=32)
    offers, pairs = load()
    judged = scores(offers, pairs, embedder)
    result = {"model": DEFAULT_MODEL_NAME, "offers": len(offers), "overall": metrics(judged)}
    kinds = sorted({p["kind"] for p, _ in judged})
    result["errors_by_kind"] = {
        k: sum(1 for p, m in judged if p["kind"] == k and p["same"] != m.same) for k in kinds
    }
    result["pairs_by_kind"] = {k: sum(1 for p, _ in judged if p["kind"] == k) for k in kinds}
    result["sweep"] = [metrics(judged, t) for t in SWEEP]
    result["split_half"] = split_half(judged)
    if args.scale:
        result["scale"] = scale(args.scale, offers, embedder)
    print(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
