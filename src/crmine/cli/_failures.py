"""How the command line reports a failure: one ``error:`` line on the terminal, details in a log.

A crmine error already says what broke and how to fix it, so it is printed as it is. Anything
else (an engine error, a bug, a full disk) gets one line naming the exception and the command,
and the traceback goes to a log file whose path the line gives. Engine messages often quote the
values that failed to convert, so quoted text is redacted from everything that is printed or
logged: the log helps a developer find the code path, never shows a customer's data.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import traceback
from pathlib import Path

try:  # typer >= 0.29 vendors click instead of depending on it
    from typer._click import ClickException
except ImportError:  # pragma: no cover - older typer
    from click import ClickException

__all__ = ["ClickException", "describe_engine_error", "describe_unexpected", "log_failure", "one_line", "redact"]

# Quoted literals, 'text' or "text": how DuckDB and Spark quote the values they failed on.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def redact(text: str) -> str:
    """``text`` with every quoted literal replaced by ``'…'`` (engines quote the offending values)."""
    return _QUOTED.sub("'…'", text)


def one_line(text: str) -> str:
    """The first non-empty line of ``text``: what failed, without the SQL or stack that follows."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def log_dir() -> Path:
    """Where failure logs go: ``$CRMINE_LOG_DIR``, else the user's cache, else the temp folder."""
    configured = os.environ.get("CRMINE_LOG_DIR")
    candidates = [Path(configured)] if configured else []
    candidates += [Path.home() / ".cache" / "crmine" / "logs", Path(tempfile.gettempdir()) / "crmine-logs"]
    for folder in candidates:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except OSError:
            continue
    return Path(tempfile.gettempdir())


def log_failure(exc: BaseException, argv: list[str]) -> Path | None:
    """Write the redacted traceback of ``exc`` to a new log file; its path, or None if none could be written."""
    lines = [f"crmine {' '.join(_safe_args(argv))}", time.strftime("%Y-%m-%dT%H:%M:%S%z"), ""]
    # Frame and source lines are indented and name crmine's code; only the exception lines carry data.
    lines += [line if line[:1].isspace() else redact(line)
              for chunk in traceback.format_exception(exc) for line in chunk.splitlines()]
    path = log_dir() / f"crmine-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    except OSError:
        return None
    return path


def _safe_args(argv: list[str]) -> list[str]:
    # The command and its options are kept; free text (a condition, an e-mail for a lookup) is not.
    return [a if a.startswith("-") or a.isidentifier() or Path(a).exists() else "…" for a in argv]


def describe_unexpected(exc: BaseException, argv: list[str]) -> str:
    """The one line printed for an exception crmine did not raise on purpose."""
    command = next((a for a in argv if not a.startswith("-")), "")
    what = {
        RecursionError: "the input is nested too deeply to process",
        MemoryError: "the machine ran out of memory",
    }.get(type(exc))
    if what is None:
        what = f"{type(exc).__name__}: {redact(one_line(str(exc)))}" if str(exc) else type(exc).__name__
    log = log_failure(exc, argv)
    where = f"details in {log}" if log else "no log could be written"
    return f"`crmine {command}` failed unexpectedly ({what}); {where}. Please report it with that log."


def describe_engine_error(exc: BaseException, argv: list[str]) -> str:
    """An engine failure in one line (its SQL and the engine's own lines go to the log)."""
    log = log_failure(exc, argv)
    return redact(one_line(str(exc))) + (f" Details in {log}." if log else "")
