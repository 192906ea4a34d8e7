"""Shared fixtures: small workspaces written from inline tables, and the engines to run them on."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

ENGINES = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


def _has_java() -> bool:
    return shutil.which("java") is not None


@pytest.fixture
def make_workspace(tmp_path):
    """Write ``files`` (name -> text or bytes) under sources/ and a crmine.toml; return the folder."""

    def make(toml: str, files: dict[str, str | bytes], *, engine: str = "duckdb", name: str = "ws") -> Path:
        root = tmp_path / name
        (root / "sources").mkdir(parents=True, exist_ok=True)
        for fname, content in files.items():
            p = root / "sources" / fname
            if isinstance(content, bytes):
                p.write_bytes(content)
            else:
                p.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
        header = f'[workspace]\nengine = "{engine}"\n'
        (root / "crmine.toml").write_text(header + textwrap.dedent(toml), encoding="utf-8")
        return root

    return make


@pytest.fixture
def engine(request):
    """Parametrise a test over the engines with ``@pytest.mark.parametrize("engine", ENGINES, indirect=True)``."""
    name = request.param
    if name == "spark":
        pytest.importorskip("pyspark", reason="PySpark not installed (pip install 'crmine[spark]')")
        if not _has_java():
            pytest.skip("Spark needs Java 17, which is not on this machine")
    return name
