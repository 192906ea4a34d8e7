"""Every failure of the command ends in one ``error:`` line and a meaningful exit code (issue 11)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
import time

import pytest
from typer.testing import CliRunner

import crmine
from crmine import pipeline
from crmine.cli import _app, app
from crmine.errors import EngineError
from tests.io.fixtures import FILES, TOML

runner = CliRunner()
PLANTED = "ann.secret@example.com"  # a customer value that must never reach the terminal or a log


def _main(monkeypatch, capsys, *args) -> tuple[int, str]:
    """Run the real entry point in this process; (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["crmine", *map(str, args)])
    with pytest.raises(SystemExit) as stop:
        _app.main()
    return stop.value.code, capsys.readouterr().err


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_a_usage_error_prints_the_usage_line_and_exits_2(monkeypatch, capsys, tmp_path):
    code, stderr = _main(monkeypatch, capsys, "query", tmp_path, "--bogus")
    assert code == 2
    assert stderr.startswith("Usage: crmine query") and "No such option: --bogus" in stderr
    assert "Traceback" not in stderr


def test_an_unexpected_exception_is_one_line_naming_a_redacted_log(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CRMINE_LOG_DIR", str(tmp_path / "logs"))

    def broken(path):
        raise RuntimeError(f"cannot parse '{PLANTED}'\nsecond line of detail")

    monkeypatch.setattr(crmine, "open", broken)
    code, stderr = _main(monkeypatch, capsys, "status", tmp_path)
    assert code == 1
    [line] = _error_lines(stderr)
    assert line.startswith("error: `crmine status` failed unexpectedly (RuntimeError: cannot parse '…')")
    [log] = (tmp_path / "logs").glob("crmine-*.log")
    assert str(log) in line
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError" in text and "test_failures.py" in text
    assert PLANTED not in stderr and PLANTED not in text


def test_recursion_is_reported_as_too_deep_not_a_traceback(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CRMINE_LOG_DIR", str(tmp_path / "logs"))

    def deep(path):
        return deep(path)

    monkeypatch.setattr(crmine, "open", deep)
    code, stderr = _main(monkeypatch, capsys, "status", tmp_path)
    assert code == 1
    [line] = _error_lines(stderr)
    assert "the input is nested too deeply to process" in line


def test_an_engine_error_prints_its_first_line_without_values_or_sql(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CRMINE_LOG_DIR", str(tmp_path / "logs"))

    def broken(path):
        raise EngineError(f"duckdb failed to read customers: ConversionException: Could not convert string "
                          f"'{PLANTED}' to INT64\nSQL:\nSELECT * FROM customers WHERE email = '{PLANTED}'")

    monkeypatch.setattr(crmine, "open", broken)
    code, stderr = _main(monkeypatch, capsys, "status", tmp_path)
    assert code == 1
    [line] = _error_lines(stderr)
    assert line.startswith("error: duckdb failed to read customers: ConversionException: Could not convert string '…'")
    assert PLANTED not in stderr and "SELECT" not in stderr
    [log] = (tmp_path / "logs").glob("crmine-*.log")
    assert PLANTED not in log.read_text()


def test_hints_keep_their_settings_section_in_brackets(monkeypatch, capsys, make_workspace):
    root = make_workspace('[sources.orders]\ntable = "transactions"\npath = "sources/missing.csv"\n', {})
    crmine.init(root)
    code, stderr = _main(monkeypatch, capsys, "ingest", root)
    assert code == 1
    assert "[sources.orders]" in stderr


def test_run_exits_1_when_a_step_fails_and_0_when_steps_are_only_skipped(make_workspace, monkeypatch):
    root = make_workspace(TOML, FILES)  # no consents, contacts or responses: some steps are skipped
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    ok = runner.invoke(app, ["run", str(root)])
    assert ok.exit_code == 0, ok.output
    assert "skipped" in ok.output

    def broken(ws):
        raise RuntimeError("model server on fire")

    steps = tuple(dataclasses.replace(s, action=broken) if s.name == "rfm" else s for s in pipeline.STEPS)
    monkeypatch.setattr(pipeline, "STEPS", steps)
    failed = runner.invoke(app, ["run", str(root), "--force"])
    assert failed.exit_code == 1
    assert "model server on fire" in failed.output


def test_a_busy_workspace_waits_then_names_the_process_holding_it(make_workspace, tmp_path):
    root = make_workspace(TOML, FILES)
    crmine.init(root)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time, duckdb
        con = duckdb.connect({str(root / "warehouse.duckdb")!r})
        print("holding", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "crmine", "status", str(root)], capture_output=True, text=True,
                              env={**__import__("os").environ, "CRMINE_LOCK_WAIT": "1"}, timeout=120)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 1
    [line] = _error_lines(proc.stderr)
    assert line.startswith(f"error: The workspace {root.resolve()} is in use by process {holder.pid}")
    assert waited >= 1
    # Once the holder is gone the same command works.
    again = subprocess.run([sys.executable, "-m", "crmine", "status", str(root)], capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 0, again.stderr
