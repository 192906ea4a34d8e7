"""Atomic writes of the files crmine keeps in a workspace: whole or not at all, even after kill -9.

Every write goes to a hidden temporary file beside the target (same folder, so the same file
system), is flushed to disk, and is then renamed over the target in one step (``os.replace``). A
reader sees the old file or the new one, never a half-written one. The temporary file keeps the
target's extension, so writers that infer a format from the name (joblib's compression, pandas'
``compression="infer"``) behave as if they wrote the target itself. On any error the temporary
file is removed; one left behind by a killed process is removed by the next write of the same
target.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["creating", "replacing", "write_bytes", "write_text"]

_MARK = ".partial-"


@contextlib.contextmanager
def replacing(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; when the block ends without error it replaces ``path``.

    The parent folder is created when missing. An existing file at ``path`` is left as it was
    until the rename, and for good if the block fails.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
    >>> with replacing(target) as tmp:
    ...     _ = tmp.write_text("customer_id,score\\n")
    >>> target.read_text()
    'customer_id,score\\n'
    >>> [p.name for p in target.parent.iterdir()]
    ['scores.csv']
    """
    with _staged(path) as (tmp, target):
        yield tmp
        _rename(tmp, target)
    _sync_folder(target.parent)


@contextlib.contextmanager
def creating(path: str | os.PathLike) -> Iterator[Path]:
    """Like :func:`replacing`, but never overwrites: FileExistsError when ``path`` exists by then."""
    with _staged(path) as (tmp, target):
        yield tmp
        _fsync(tmp)
        try:
            os.link(tmp, target)  # fails, atomically, when the target exists
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: check, then rename
            if target.exists():
                raise FileExistsError(f"{target} exists already") from None
            os.replace(tmp, target)
    _sync_folder(target.parent)


def write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    return write_bytes(path, text.encode(encoding))


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


@contextlib.contextmanager
def _staged(path: str | os.PathLike) -> Iterator[tuple[Path, Path]]:
    """A fresh temporary name beside ``path`` (and the target), removed if it outlives the block."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep(target)
    token = f"{os.getpid()}-{secrets.token_hex(4)}"
    tmp = target.with_name(f".{target.name}{_MARK}{token}{target.suffix}")
    try:
        yield tmp, target
    finally:
        # Gone after a rename; removed here after a failure, or after a link.
        tmp.unlink(missing_ok=True)


def _fsync(tmp: Path) -> None:
    with open(tmp, "rb") as f:  # the data must be on disk before a name points at it
        os.fsync(f.fileno())


def _rename(tmp: Path, target: Path) -> None:
    _fsync(tmp)
    os.replace(tmp, target)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sweep(target: Path) -> None:
    """Remove temporary files of ``target`` left by writers that are no longer running."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return
    prefix = f".{target.name}{_MARK}"
    with contextlib.suppress(OSError):
        for p in target.parent.iterdir():
            if not p.name.startswith(prefix):
                continue
            pid = p.name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and not _running(int(pid)):
                p.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by another user
        return True
    return True
