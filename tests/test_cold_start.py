"""Cold start: what the CLI's search path imports, and the fast exit that keeps output and exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from indexer.sqlite_store import SqliteStore
from indexer.workflows.errors import ExitCode
from tests.store_contract import make_doc

REPO = Path(__file__).resolve().parent.parent


def _python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )


def test_sentence_transformers_imports_without_scikit_learn_which_still_works_when_used():
    code = (
        "import sys\n"
        "from indexer.lazy_imports import defer_unused_imports\n"
        "defer_unused_imports()\n"
        "from sentence_transformers import SentenceTransformer\n"
        "print('DEFERRED', type(sys.modules['sklearn']).__name__, 'scipy.stats' in sys.modules)\n"
        "from sklearn.metrics import pairwise_distances\n"
        "import numpy as np\n"
        "print('DIST', pairwise_distances(np.eye(2), np.eye(2)).round(3).tolist())\n"
        "from sklearn.cluster import KMeans\n"
        "import sklearn\n"
        "print('REAL', type(sys.modules['sklearn']).__name__, bool(sklearn.__version__), KMeans.__name__)\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    assert "DEFERRED _Deferred False" in done.stdout
    assert "DIST [[0.0, 1.414], [1.414, 0.0]]" in done.stdout
    assert "REAL module True KMeans" in done.stdout


# Loads the default model and embeds a query with the stand-ins in place, reports which modules are still
# stand-ins, then uses each deferred module the way the libraries bound it at import.
DEFERRED_CODE = """
import sys
from indexer.embedder import Embedder
vector = Embedder().embed_query("口红 lipstick")
kinds = {n: type(sys.modules.get(n)).__name__ for n in ("scipy.optimize", "scipy.sparse", "torch._dynamo")}
print("AFTER_SEARCH", sorted(kinds.items()), round(float(vector @ vector), 4))
from transformers.loss import loss_for_object_detection as detection  # bound linear_sum_assignment
import numpy as np
print("ASSIGN", [a.tolist() for a in detection.linear_sum_assignment(np.array([[4, 1], [2, 3]]))])
from sentence_transformers.util import to_scipy_coo  # module-level `from scipy.sparse import coo_matrix`
import torch
print("COO", to_scipy_coo(torch.eye(2).to_sparse()).toarray().tolist())
import scipy.sparse as sp
print("SPARSE", type(sys.modules["scipy.sparse"]).__name__, sp.issparse(sp.csr_matrix(np.eye(2))))
from transformers.integrations import finegrained_fp8, deepgemm, flex_attention
print("BEFORE_DYNAMO", finegrained_fp8._load_finegrained_fp8_kernel.__name__, hasattr(deepgemm.is_sm100,
      "_dynamo_marked_constant"))
import torch._dynamo
from torch._dynamo import trace_rules
print("DYNAMO", type(sys.modules["torch._dynamo"]).__name__, torch._dynamo is sys.modules["torch._dynamo"],
      id(finegrained_fp8._load_finegrained_fp8_kernel) in trace_rules._allowed_callable_ids,
      getattr(deepgemm.is_sm100, "_dynamo_marked_constant", False))
compiled = torch.compile(lambda x: x * 2 + 1, backend="eager")
print("COMPILED", compiled(torch.ones(2)).tolist())
"""


def test_the_model_loads_and_embeds_without_scipy_or_dynamo_which_still_work_when_used():
    """Cold start: scipy.optimize, scipy.sparse and torch._dynamo stay stand-ins through loading the model
    and embedding a query; each works when used, and torch._dynamo's deferred marks reach the real one."""
    done = _python(DEFERRED_CODE)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        "AFTER_SEARCH [('scipy.optimize', '_Deferred'), ('scipy.sparse', '_Deferred'), "
        "('torch._dynamo', '_Deferred')] 1.0" in out
    ), out
    assert "ASSIGN [[0, 1], [1, 0]]" in out
    assert "COO [[1.0, 0.0], [0.0, 1.0]]" in out
    assert "SPARSE module True" in out
    assert "DYNAMO module True True True" in out
    assert "COMPILED [3.0, 3.0]" in out


def test_the_cli_script_exits_fast_with_its_output_flushed_and_its_exit_code(tmp_path):
    store_path = tmp_path / "s.db"
    store = SqliteStore(store_path)
    store.set_model("m", 2)
    store.upsert([make_doc("lip1", title="口红 lipstick")], [np.array([1.0, 0.0])], ["h"])
    store.close()
    cli = [sys.executable, "search_cli.py", "--store", str(store_path), "search"]
    found = subprocess.run(
        cli + ["lipstick", "--mode", "keyword", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["id"] == "douyin:video:lip1"  # flushed before os._exit
    nothing = subprocess.run(
        cli + ["zzzunknownword", "--mode", "keyword"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert nothing.returncode == 0 and nothing.stderr.strip() == "no results"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database" * 100)
    broken = subprocess.run(
        [sys.executable, "search_cli.py", "--store", str(garbage), "search", "x", "--mode", "keyword"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert broken.returncode == ExitCode.STORE and broken.stderr.strip(), broken.stderr
    usage = subprocess.run(
        cli + ["--limit", "nope", "x"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert usage.returncode == ExitCode.USAGE and usage.stderr.strip()


def test_fast_start_off_keeps_every_import_as_the_libraries_make_it(tmp_path):
    code = (
        "import sys\n"
        "from indexer.lazy_imports import defer_unused_imports\n"
        "defer_unused_imports()\n"
        "from sentence_transformers import SentenceTransformer\n"
        "print('KINDS', sorted({type(sys.modules[n]).__name__ for n in ('sklearn', 'scipy.optimize', "
        "'torch._dynamo')}))\n"
    )
    import os

    env = {**os.environ, "TRENDCART_FAST_START": "off"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "KINDS ['module']" in done.stdout
