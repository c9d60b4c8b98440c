"""The Elasticsearch store (docs/ELASTICSEARCH.md): ElasticStore, its configuration and its errors."""

from indexer.elastic.config import ElasticConfig
from indexer.elastic.errors import BulkWriteError, ClusterUnavailable, ElasticModelMismatch
from indexer.elastic.outbox import Outbox
from indexer.elastic.reindex import ReindexResult
from indexer.elastic.store import ElasticStore

__all__ = [
    "BulkWriteError",
    "ClusterUnavailable",
    "ElasticConfig",
    "ElasticModelMismatch",
    "ElasticStore",
    "Outbox",
    "ReindexResult",
]
