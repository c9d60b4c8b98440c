"""Merging a batch of observations into stored documents: SqliteStore's upsert rules as bulk actions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.elastic.source import source, vector_json
from indexer.store import UpsertResult

# The stored vector must go (its text changed).
DROP = object()
# The fields a merge reads of each stored document (with its sequence number and primary term).
MERGE_FIELDS = ["first_seen", "last_seen", "text_hash"]


@dataclass
class DocState:
    """One document while a batch is merged into it: what is stored, and what the batch changes."""

    exists: bool
    first_seen: str
    last_seen: str
    text_hash: str | None
    had_vector: bool
    seq_no: int | None = None
    primary_term: int | None = None
    row: dict[str, Any] | None = None  # the newest observation when it replaces the stored fields
    vector: Any = None  # ndarray (new), DROP, or None (unchanged)
    first_seen_moved: bool = False

    @classmethod
    def new(cls, row: dict[str, Any]) -> DocState:
        at = row["observed_at"]
        return cls(exists=False, first_seen=at, last_seen=at, text_hash=None, had_vector=False, row=row)

    @classmethod
    def from_stored(cls, src: Mapping[str, Any]) -> DocState:
        return cls(
            exists=True,
            first_seen=src["first_seen"],
            last_seen=src["last_seen"],
            text_hash=src.get("text_hash"),
            had_vector=src.get("text_hash") is not None,
            seq_no=src["_seq_no"],
            primary_term=src["_primary_term"],
        )

    def apply_observation(self, row: dict[str, Any]) -> None:
        """Newest observation wins the fields; an older one only moves first_seen back."""
        at = row["observed_at"]
        if at >= self.last_seen:
            self.row, self.last_seen = row, at
        if at < self.first_seen:
            self.first_seen, self.first_seen_moved = at, True

    def needs_stored_vector(self) -> bool:
        """True when the whole document is rewritten and must carry its stored vector over."""
        return self.exists and self.row is not None and self.vector is None and self.had_vector

    def action(self, index: str, doc_id: str, stored_vector: Any) -> dict[str, Any] | None:
        """The bulk action that writes this state (optimistic concurrency on stored documents), or None."""
        occ = {"if_seq_no": self.seq_no, "if_primary_term": self.primary_term} if self.exists else {}
        if self.row is not None:  # whole document (new, or a newer observation)
            if isinstance(self.vector, np.ndarray):
                vector, text_hash = self.vector, self.text_hash
            elif self.vector is None and stored_vector is not None:
                vector, text_hash = stored_vector, self.text_hash
            else:
                vector, text_hash = None, None
            return {
                "_op_type": "index" if self.exists else "create",
                "_index": index,
                "_id": doc_id,
                "_source": source(self.row, self.first_seen, self.last_seen, vector, text_hash),
                **occ,
            }
        partial: dict[str, Any] = {}
        if self.first_seen_moved:
            partial["first_seen"] = self.first_seen
        if isinstance(self.vector, np.ndarray):
            partial["vector"], partial["text_hash"] = vector_json(self.vector), self.text_hash
        elif self.vector is DROP:
            partial["vector"], partial["text_hash"] = None, None
        if not partial:
            return None
        return {"_op_type": "update", "_index": index, "_id": doc_id, "doc": partial, **occ}


def merge_states(
    rows: list[dict[str, Any]],
    vecs: list[np.ndarray | None],
    hashes: list[str | None],
    stored: Mapping[str, Mapping[str, Any]],
) -> tuple[dict[str, DocState], UpsertResult]:
    """Each document's state after the batch, from `stored` (MERGE_FIELDS with versions, by id), and the
    added/updated counts. A vector replaces the stored one; None keeps it unless the text hash changed."""
    states: dict[str, DocState] = {}
    result = UpsertResult()
    for row, vec, text_hash in zip(rows, vecs, hashes, strict=True):
        doc_id = row["id"]
        state = states.get(doc_id)
        if state is None:
            found = stored.get(doc_id)
            state = states[doc_id] = DocState.from_stored(found) if found else DocState.new(row)
            if found is None:
                result.added += 1
            else:
                result.updated += 1
                state.apply_observation(row)
        else:
            result.updated += 1
            state.apply_observation(row)
        if vec is not None:
            state.vector, state.text_hash = vec, text_hash or ""
        elif text_hash is not None and state.text_hash is not None and state.text_hash != text_hash:
            state.vector, state.text_hash = DROP, None  # the text changed: the stored vector is stale
    return states, result


def merge_actions(
    states: Mapping[str, DocState], index: str, kept: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Bulk actions for `states`; `kept` holds the stored vectors of the ids that `needs_stored_vector`."""
    actions = []
    for doc_id, state in states.items():
        action = state.action(index, doc_id, kept.get(doc_id, {}).get("vector"))
        if action is not None:
            actions.append(action)
    return actions
