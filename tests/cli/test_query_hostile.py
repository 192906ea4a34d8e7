"""`crmine query` on hostile conditions: exit code 1 and one `error:` line, through the real entry point."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import crmine
from tests.features.fixtures import AS_OF, FILES, TOML


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """The tiny company of tests/features, ingested and with its customer table built."""
    root = tmp_path_factory.mktemp("query") / "ws"
    (root / "sources").mkdir(parents=True)
    for name, content in FILES.items():
        (root / "sources" / name).write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    (root / "crmine.toml").write_text('[workspace]\nengine = "duckdb"\n' + textwrap.dedent(TOML), encoding="utf-8")
    ws = crmine.init(root)
    ws.ingest.run()
    ws.customers.build(as_of=AS_OF)
    return root


def _crmine(*args) -> subprocess.CompletedProcess:
    # The installed console script, i.e. crmine.cli._app.main; `python -m crmine` runs the same main.
    script = Path(sys.executable).with_name("crmine")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "crmine"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_a_plain_condition_still_counts(workspace):
    proc = _crmine("query", workspace, "spend > 50")
    assert (proc.returncode, proc.stdout.strip(), proc.stderr) == (0, "1 customers", "")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("spend > [/]", "unexpected character '[' at column 9 of the expression"),
        ("[bold]x", "unexpected character '[' at column 1 of the expression"),
        ("(" * 200 + "spend > 1" + ")" * 200, "nesting deeper than 64 levels (MAX_DEPTH) at column 65"),
        (" and ".join(["spend"] * 1000), "more than 200 terms (MAX_TERMS"),
        (" and ".join(["spend > 0"] * 1000), "characters long, more than the limit of 10,000 (MAX_LENGTH)"),
        ("spend > 99999999999999999999", "outside the signed 64-bit range"),
        ("region > 5", "'>' does not apply to text and a whole number"),
        ("spend + 1", "not true/false"),
    ],
)
def test_a_hostile_condition_is_one_error_line(workspace, condition, message):
    proc = _crmine("query", workspace, condition)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert message in lines[0]
    assert proc.stdout == ""
