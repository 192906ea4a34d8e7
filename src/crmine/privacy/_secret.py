"""The workspace secret and the salted hashes of the suppression list.

The secret is 32 random bytes, hex, in ``.crmine-secret`` at the workspace root, created once with
mode 0600 and never rewritten: every hash in ``privacy_suppressed`` depends on it. A hash is the
SHA-256 of ``secret + kind + ":" + value`` in hex, computed the same way in Python (erasure) and in
the warehouse (ingest), so a value seen again at ingest is recognised without being stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

import ibis
import ibis.expr.types as ir

from crmine.errors import SettingsError

__all__ = ["SECRET_FILE", "key_hash", "key_hash_expr", "read_secret", "standard_email", "workspace_secret"]

SECRET_FILE = ".crmine-secret"


def workspace_secret(root: Path) -> str:
    """The workspace secret, created (mode 0600) on first use."""
    path = Path(root) / SECRET_FILE
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # two writers: one wins
        try:
            os.write(fd, (secrets.token_hex(32) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    return read_secret(root)


def read_secret(root: Path) -> str:
    """The existing workspace secret; SettingsError when it is missing or empty."""
    path = Path(root) / SECRET_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = ""
    if not text:
        raise SettingsError(
            f"The workspace secret {SECRET_FILE} is missing or empty in {root}, but the warehouse holds a "
            "suppression list (privacy_suppressed) keyed by it, so erased people cannot be recognised at ingest. "
            f"Restore {SECRET_FILE} from a backup of the workspace.")
    return text


def key_hash(secret: str, kind: str, value: str) -> str:
    """The salted SHA-256 (hex) of one value."""
    return hashlib.sha256(f"{secret}{kind}:{value}".encode()).hexdigest()


def key_hash_expr(secret: str, kind: str, value: ir.StringValue) -> ir.StringValue:
    """:func:`key_hash` as an Ibis expression (null for a null value)."""
    return (ibis.literal(f"{secret}{kind}:") + value.cast("string")).hexdigest("sha256")


def standard_email(email: ir.Value) -> ir.StringValue:
    """An e-mail address with case, spaces, ``mailto:`` and ``+tags`` ignored, as identity resolution
    cleans it; Gmail's dots are kept: two records whose addresses differ by a dot may be two people."""
    from crmine.identity._standardise import _email_clean

    return _email_clean(email)
