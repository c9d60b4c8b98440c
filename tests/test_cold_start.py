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
        "from indexer.lazy_imports import defer_sklearn\n"
        "defer_sklearn()\n"
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
