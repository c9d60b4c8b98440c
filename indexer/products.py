"""Canonical products: offers from every source grouped by evidence, kept with user overrides in a side file."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crawler import times
from indexer.product_match import Features, Match, Offer, conflicts, features, match, normalise
from indexer.store import SearchFilters, Store, StoreError

# Candidates per offer from the title embeddings (nearest first): the same product rarely has more than a
# handful of listings among 100k, and a pair outside an offer's 20 nearest titles scores below the threshold.
NEIGHBOURS = 20
# Rows of the similarity product computed at once: 1024 x 100k float32 is 400 MB at most in flight.
CHUNK = 1024
# Up to this many offers the neighbours are exact; beyond, an inverted file (k-means lists) cuts the work
# ~sqrt(n)/NPROBE-fold. Same-product titles sit in one list or its nearest ones (bench: recall of the exact
# neighbours, docs/BENCHMARKS.md "Product matching").
EXACT_LIMIT = 20_000
NPROBE = 4
IVF_ROUNDS = 6
IVF_SEED = 13
# A group is checked against at most this many of its members before a join (conflicts: size, colour ...).
CHECK_MEMBERS = 50
SCHEMA = """
CREATE TABLE IF NOT EXISTS offers (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, platform TEXT, price REAL, currency TEXT, shop TEXT,
    brand TEXT, url TEXT, source TEXT NOT NULL, vector BLOB, group_id TEXT, confidence REAL, evidence TEXT
);
CREATE INDEX IF NOT EXISTS offers_group ON offers(group_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS prices (
    id TEXT NOT NULL, at TEXT NOT NULL, price REAL NOT NULL, currency TEXT, PRIMARY KEY (id, at)
);
CREATE TABLE IF NOT EXISTS overrides (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, action TEXT NOT NULL, a TEXT NOT NULL, b TEXT, at TEXT NOT NULL
);
"""


class ProductNotFound(StoreError):
    """No canonical product and no offer has this id."""


def canonical_id(anchor: str) -> str:
    """A group's id, from the offer it was founded on: `cp-` and 10 hex digits, stable across re-crawls."""
    return "cp-" + hashlib.sha1(anchor.encode("utf-8")).hexdigest()[:10]


@dataclass
class Member:
    """One offer in a canonical product, with the match that put it there."""

    offer: Offer
    source: str  # "document" (a product document) or "link" (known only from a video's or live's link)
    confidence: float
    evidence: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        o = self.offer
        return {
            "id": o.id,
            "title": o.title,
            "platform": o.platform,
            "price": o.price,
            "currency": o.currency,
            "shop": o.shop,
            "url": o.url,
            "source": self.source,
            "confidence": self.confidence,
            "evidence": self.evidence,
        }


@dataclass
class CanonicalProduct:
    id: str
    members: list[Member] = field(default_factory=list)

    @property
    def title(self) -> str:
        """The title of the product documents' best-known member (a document before a link, then the longest)."""
        best = max(self.members, key=lambda m: (m.source == "document", len(m.offer.title), m.offer.id))
        return best.offer.title

    @property
    def platforms(self) -> list[str]:
        return sorted({m.offer.platform for m in self.members if m.offer.platform})

    @property
    def confidence(self) -> float:
        return round(min(m.confidence for m in self.members), 4)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "members": sorted(m.offer.id for m in self.members),
            "platforms": self.platforms,
            "confidence": self.confidence,
        }


@dataclass
class GroupingResult:
    offers: int
    new: int
    groups: int
    seconds: float


class _Groups:
    """Union-find over offer indexes, each root holding its members; joins respect conflicts and overrides."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {i: [i] for i in range(n)}

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))


class ProductBook:
    """The canonical products of one store: a small SQLite file beside it (backend-neutral: it holds offer
    titles, title vectors, group assignments and the user's merge/split overrides, never documents)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path))
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the product file {self.path}: {exc}") from None

    def close(self) -> None:
        self.db.close()

    # -- offers ------------------------------------------------------------------------------------
    def offers(self) -> dict[str, tuple[Offer, str]]:
        rows = self.db.execute(
            "SELECT id, title, platform, price, currency, shop, brand, url, source FROM offers"
        ).fetchall()
        return {r[0]: (Offer(*r[:8]), r[8]) for r in rows}

    def _vectors(self, ids: Sequence[str]) -> np.ndarray:
        found = dict(self.db.execute("SELECT id, vector FROM offers"))
        return np.stack([np.frombuffer(found[i], dtype=np.float32) for i in ids]) if ids else np.zeros((0, 0))

    def add_offers(
        self, offers: Sequence[tuple[Offer, str]], embed: Callable[[list[str]], Any], model: str | None = None
    ) -> list[str]:
        """Record new or changed offers (title, price, shop ...) and embed the new titles; returns the ids
        whose title changed or that are new (they are matched again). Title vectors of another `model` than
        the one recorded are all made again, and every offer is grouped again (overrides stay)."""
        self._record_prices([o for o, _ in offers])
        recorded = self.db.execute("SELECT value FROM meta WHERE key='model'").fetchone()
        if model is not None and (recorded is None or recorded[0] != model):
            with self.db:
                if recorded is not None:
                    self.db.execute("DELETE FROM offers")  # another model: embed and group all again
                self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('model', ?)", (model,))
        known = {r[0]: r[1] for r in self.db.execute("SELECT id, title FROM offers")}
        changed = [(o, s) for o, s in offers if known.get(o.id) != o.title]
        same = [(o, s) for o, s in offers if o.id in known and known[o.id] == o.title]
        with self.db:
            self.db.executemany(
                "UPDATE offers SET platform=?, price=?, currency=?, shop=?, brand=?, url=?, source=? WHERE id=?",
                [(o.platform, o.price, o.currency, o.shop, o.brand, o.url, s, o.id) for o, s in same],
            )
            if changed:
                vectors = np.asarray(
                    embed([normalise(o.title) or o.title for o, _ in changed]), dtype=np.float32
                )
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                vectors = vectors / np.where(norms > 0, norms, 1.0)
                self.db.executemany(
                    "INSERT INTO offers (id, title, platform, price, currency, shop, brand, url, source, vector, "
                    "group_id) VALUES (?,?,?,?,?,?,?,?,?,?,NULL) ON CONFLICT(id) DO UPDATE SET title=excluded.title, "
                    "platform=excluded.platform, price=excluded.price, currency=excluded.currency, "
                    "shop=excluded.shop, brand=excluded.brand, url=excluded.url, source=excluded.source, "
                    "vector=excluded.vector, group_id=NULL",
                    [
                        (
                            o.id,
                            o.title,
                            o.platform,
                            o.price,
                            o.currency,
                            o.shop,
                            o.brand,
                            o.url,
                            s,
                            v.tobytes(),
                        )
                        for (o, s), v in zip(changed, vectors, strict=True)
                    ],
                )
        return [o.id for o, _ in changed]

    # -- prices ------------------------------------------------------------------------------------
    def _record_prices(self, offers: Sequence[Offer]) -> None:
        """A price observation for each offer whose price or currency differs from the last one recorded
        (prices are snapshots: a change is kept, a repeat is not)."""
        last = {
            r[0]: (r[1], r[2])
            for r in self.db.execute(
                "SELECT p.id, p.price, p.currency FROM prices p JOIN (SELECT id, MAX(at) AS at FROM prices "
                "GROUP BY id) m ON p.id = m.id AND p.at = m.at"
            )
        }
        rows = [
            (o.id, o.observed_at, float(o.price), o.currency)
            for o in offers
            if o.price is not None and o.observed_at and last.get(o.id) != (float(o.price), o.currency)
        ]
        with self.db:
            self.db.executemany(
                "INSERT OR IGNORE INTO prices (id, at, price, currency) VALUES (?,?,?,?)", rows
            )

    def price_history(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Recorded price observations of these offers, oldest first: {listing, at, price, currency}."""
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, at, price, currency FROM prices WHERE id IN ({marks}) ORDER BY at, id", list(ids)
        ).fetchall()
        return [{"listing": r[0], "at": r[1], "price": r[2], "currency": r[3]} for r in rows]

    # -- overrides ---------------------------------------------------------------------------------
    def overrides(self) -> list[tuple[str, str, str | None]]:
        return [tuple(r) for r in self.db.execute("SELECT action, a, b FROM overrides ORDER BY seq")]

    def add_override(self, action: str, a: str, b: str | None = None) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO overrides (action, a, b, at) VALUES (?,?,?,?)",
                (action, a, b, times.iso_utc(times.utc_now())),
            )

    # -- grouping ----------------------------------------------------------------------------------
    def regroup(
        self, convert: Callable[[float, str, str], float | None] | None = None, full: bool = False
    ) -> int:
        """Assign every ungrouped offer (all of them when `full`) to a canonical product; returns groups."""
        rows = self.db.execute("SELECT id, group_id FROM offers ORDER BY id").fetchall()
        ids = [r[0] for r in rows]
        if not ids:
            return 0
        offers = self.offers()
        new = {i for i, (_, g) in enumerate(rows) if full or g is None}
        assignment = group_offers(
            [offers[i][0] for i in ids],
            self._vectors(ids),
            new,
            {} if full else {r[0]: r[1] for r in rows if r[1]},
            self.overrides(),
            convert,
        )
        with self.db:
            self.db.executemany(
                "UPDATE offers SET group_id=?, confidence=?, evidence=? WHERE id=?",
                [(g, c, json.dumps(e, ensure_ascii=False), i) for i, (g, c, e) in assignment.items()],
            )
        return len({g for g, _, _ in assignment.values()})

    def products(self) -> list[CanonicalProduct]:
        rows = self.db.execute(
            "SELECT id, title, platform, price, currency, shop, brand, url, source, group_id, confidence, "
            "evidence FROM offers WHERE group_id IS NOT NULL ORDER BY group_id, id"
        ).fetchall()
        groups: dict[str, CanonicalProduct] = {}
        for r in rows:
            member = Member(
                Offer(*r[:8]), r[8], r[10] if r[10] is not None else 1.0, json.loads(r[11] or "{}")
            )
            groups.setdefault(r[9], CanonicalProduct(r[9])).members.append(member)
        return list(groups.values())

    def canonical_map(self) -> dict[str, dict[str, Any]]:
        """{offer id: its canonical product {id, title, members, platforms}} as last grouped (what the trend
        engine groups `--by product` rows by; nothing is embedded here)."""
        found: dict[str, dict[str, Any]] = {}
        for product in self.products():
            info = product.to_json()
            for member in info["members"]:
                found[member] = info
        return found

    def group_of(self, offer_id: str) -> str | None:
        row = self.db.execute("SELECT group_id FROM offers WHERE id=?", (offer_id,)).fetchone()
        return row[0] if row else None

    def product(self, ident: str) -> CanonicalProduct:
        """A canonical product by its id or by the id of one of its offers; ProductNotFound otherwise."""
        group = ident if ident.startswith("cp-") else self.group_of(ident)
        found = [p for p in self.products() if p.id == group] if group else []
        if not found:
            raise ProductNotFound(
                f"no canonical product or offer {ident!r}: run `trendcart product list` for ids"
            )
        return found[0]


def _top(
    sims: np.ndarray, rows: Sequence[int], columns: np.ndarray, k: int
) -> dict[int, list[tuple[int, float]]]:
    """The k best columns of each row of a similarity block, best first (a row never lists itself)."""
    out: dict[int, list[tuple[int, float]]] = {}
    kk = min(k, sims.shape[1] - 1)
    if kk <= 0:
        return {r: [] for r in rows}
    top = (
        np.argpartition(-sims, kk - 1, axis=1)[:, : kk + 1] if kk + 1 <= sims.shape[1] else np.argsort(-sims)
    )
    for i, row in enumerate(rows):
        cand = top[i][np.argsort(-sims[i, top[i]])]
        out[row] = [(int(columns[j]), float(sims[i, j])) for j in cand if columns[j] != row][:k]
    return out


def _neighbours(vectors: np.ndarray, rows: Sequence[int], k: int) -> dict[int, list[tuple[int, float]]]:
    """For each row, its k nearest other rows by cosine (vectors are unit length), best first: exact up to
    EXACT_LIMIT vectors, then an inverted file (IVF: k-means lists, NPROBE nearest lists searched)."""
    rows = list(rows)
    if len(vectors) < 2 or not rows:
        return {r: [] for r in rows}
    everything = np.arange(len(vectors))
    out: dict[int, list[tuple[int, float]]] = {}
    if len(vectors) <= EXACT_LIMIT:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            out.update(_top(vectors[chunk] @ vectors.T, chunk, everything, k))
        return out
    centroids, lists = _inverted_file(vectors)
    near = np.argsort(-(centroids @ centroids.T), axis=1)[:, :NPROBE]
    primary = np.argmax(vectors[rows] @ centroids.T, axis=1)
    for c in np.unique(primary):
        queries = [r for r, p in zip(rows, primary, strict=True) if p == c]
        columns = np.concatenate([lists[j] for j in near[c]])
        for start in range(0, len(queries), CHUNK):
            chunk = queries[start : start + CHUNK]
            out.update(_top(vectors[chunk] @ vectors[columns].T, chunk, columns, k))
    return out


def _inverted_file(vectors: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Spherical k-means (sqrt(n) lists, a few rounds on a sample, seeded) and each vector's list."""
    rng = np.random.default_rng(IVF_SEED)
    n_lists = max(int(np.sqrt(len(vectors))), 1)
    sample = vectors[rng.choice(len(vectors), min(len(vectors), 50 * n_lists), replace=False)]
    centroids = sample[rng.choice(len(sample), n_lists, replace=False)].copy()
    for _ in range(IVF_ROUNDS):
        assign = np.argmax(sample @ centroids.T, axis=1)
        for c in range(n_lists):
            members = sample[assign == c]
            if len(members):
                centroids[c] = members.sum(axis=0)
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    assign = np.concatenate(
        [
            np.argmax(vectors[s : s + CHUNK * 8] @ centroids.T, axis=1)
            for s in range(0, len(vectors), CHUNK * 8)
        ]
    )
    order = np.argsort(assign, kind="stable")
    bounds = np.searchsorted(assign[order], np.arange(n_lists + 1))
    return centroids, [order[bounds[c] : bounds[c + 1]] for c in range(n_lists)]


def group_offers(
    offers: Sequence[Offer],
    vectors: np.ndarray,
    new: Iterable[int],
    existing: Mapping[str, str],
    overrides: Sequence[tuple[str, str, str | None]] = (),
    convert: Callable[[float, str, str], float | None] | None = None,
) -> dict[str, tuple[str, float, dict[str, Any]]]:
    """Canonical product of each offer: `{offer id: (group id, confidence, evidence)}` for every offer.

    Only pairs with a `new` offer are scored (incremental: an earlier grouping, `existing` {offer id: group
    id}, stands). Pairs that match join best first unless one group's members conflict with the other's
    (a size, colour, year ...) or an override says `split` (that offer stays alone unless merged by hand);
    `merge A B` joins two offers (or the groups they are in) whatever the evidence."""
    n = len(offers)
    index = {o.id: i for i, o in enumerate(offers)}
    feats: list[Features] = [features(o.title) for o in offers]
    groups = _Groups(n)
    by_group: dict[str, list[int]] = {}
    for offer_id, group in existing.items():
        if offer_id in index:
            by_group.setdefault(group, []).append(index[offer_id])
    for members in by_group.values():
        for other in members[1:]:
            groups.union(members[0], other)
    last_split = {a: seq for seq, (action, a, _) in enumerate(overrides) if action == "split"}
    alone = {index[a] for a in last_split if a in index}
    # A merge after a split brings the offer back; a split after a merge wins.
    merges = [
        (a, b)
        for seq, (action, a, b) in enumerate(overrides)
        if action == "merge" and b and all(last_split.get(x, -1) < seq for x in (a, b))
    ]
    # An offer the user split never joins by evidence again; a merge by hand is the only way back in.
    new = sorted(set(new))
    candidates: dict[tuple[int, int], Match] = {}
    for i, near in _neighbours(vectors, new, NEIGHBOURS).items():
        for j, cosine in near:
            pair = (min(i, j), max(i, j))
            if pair not in candidates:
                candidates[pair] = match(
                    offers[pair[0]], offers[pair[1]], cosine, feats[pair[0]], feats[pair[1]], convert
                )
    best: dict[int, tuple[float, dict[str, Any]]] = {}
    for (i, j), verdict in sorted(candidates.items(), key=lambda kv: (-kv[1].score, kv[0])):
        if not verdict.same or i in alone or j in alone:
            continue
        ri, rj = groups.find(i), groups.find(j)
        if ri == rj:
            continue
        left, right = groups.members[ri][:CHECK_MEMBERS], groups.members[rj][:CHECK_MEMBERS]
        if any(conflicts(feats[a], feats[b]) for a in left for b in right):
            continue
        groups.union(i, j)
        for a, b in ((i, j), (j, i)):
            if a not in best:
                best[a] = (verdict.confidence, {**verdict.evidence, "matched": offers[b].id})
    for a, b in merges:
        if a in index and b in index:
            groups.union(index[a], index[b])
            for x, y in ((a, b), (b, a)):
                best[index[x]] = (1.0, {"rule": "merged by the user", "matched": y})
    result: dict[str, tuple[str, float, dict[str, Any]]] = {}
    old_ids = {index[o]: g for o, g in existing.items() if o in index}
    for members in groups.members.values():
        kept = sorted(old_ids[m] for m in members if m in old_ids)
        group_id = kept[0] if kept else canonical_id(min(offers[m].id for m in members))
        for m in members:
            if m in alone and len(members) == 1:  # (a merged one keeps the "merged by the user" evidence)
                confidence, evidence = 1.0, {"rule": "split by the user"}
            elif len(members) == 1:
                confidence, evidence = 1.0, {"rule": "no other offer matched"}
            else:
                confidence, evidence = best.get(m, (1.0, {"rule": "grouped earlier"}))
            result[offers[m].id] = (group_id, confidence, evidence)
    return result


def offers_in_store(store: Store) -> list[tuple[Offer, str]]:
    """Every product offer a store knows: its product documents, and the products known only through the
    links of videos and lives (their title, price and shop come from the linking content)."""
    found: dict[str, tuple[Offer, str]] = {}
    for doc in store.iter_documents(SearchFilters(kind="product")):
        if doc.get("title"):
            found[doc["id"]] = (Offer.from_doc(doc), "document")
    for doc in store.iter_documents(SearchFilters(has_products=True)):
        for ref in doc.get("products") or []:
            if isinstance(ref, dict) and ref.get("id") and ref.get("title") and ref["id"] not in found:
                seen = doc.get("last_seen") or doc.get("observed_at")
                found[ref["id"]] = (
                    Offer.from_doc({**ref, "platform": doc.get("platform"), "observed_at": seen}),
                    "link",
                )
    return sorted(found.values(), key=lambda pair: pair[0].id)
