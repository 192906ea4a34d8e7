"""API keys: made once, shown once, stored as a salted hash with the role they carry.

A key reads ``crm_<key id>_<secret>``. The key id (8 hex digits) finds the stored row; the secret
(32 random bytes) is checked against ``sha256(salt + secret)``. A fast hash is enough here: the
secret is random with 256 bits, so there is nothing to guess from a leaked hash (a slow hash such as
scrypt protects chosen passwords, and would cost every request tens of milliseconds).

Keys live in the warehouse table ``api_keys`` (key_id, role, created, salt, hash, revoked). On
DuckDB only one process may write the warehouse: create and revoke keys while the server is stopped.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import ibis
import pandas as pd

from crmine.errors import SettingsError
from crmine.warehouse import Warehouse

__all__ = ["KEYS_TABLE", "RIGHTS", "ROLES", "ApiKey", "create_key", "list_keys", "revoke_key", "verify_key"]

KEYS_TABLE = "api_keys"
PREFIX = "crm"
# What each role may do. "read": features, scores, counts, segments, lift; "targets": target lists;
# "events": post till lines; "personal": personal columns (name, e-mail, phone, address).
RIGHTS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "targets", "events", "personal"}),
    "analyst": frozenset({"read"}),
    "marketer": frozenset({"read", "targets"}),
    "till": frozenset({"events"}),
}
ROLES = tuple(RIGHTS)
_SCHEMA = ibis.schema({"key_id": "string", "role": "string", "created": "timestamp", "salt": "string",
                       "hash": "string", "revoked": "timestamp"})


@dataclass(frozen=True)
class ApiKey:
    """A stored key: its id and role (never the secret)."""

    key_id: str
    role: str

    @property
    def rights(self) -> frozenset[str]:
        return RIGHTS.get(self.role, frozenset())


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def create_key(wh: Warehouse, /, *, role: str) -> str:
    """Make a key for ``role``, store its salted hash, and return the key (the only time it is seen)."""
    if role not in RIGHTS:
        raise SettingsError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    wh.create_empty(KEYS_TABLE, _SCHEMA)
    key_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    row = pd.DataFrame({"key_id": [key_id], "role": [role], "created": [datetime.now(UTC).replace(tzinfo=None)],
                        "salt": [salt], "hash": [_digest(salt, secret)], "revoked": [pd.NaT]})
    with wh.transaction():
        t = wh.table(KEYS_TABLE)
        wh.insert(KEYS_TABLE, wh.frame(row).select(*[ibis._[c].cast(t[c].type()) for c in t.columns]))
    return f"{PREFIX}_{key_id}_{secret}"


def list_keys(wh: Warehouse, /) -> pd.DataFrame:
    """Key id, role, when created and when revoked, for every key (no hashes)."""
    if not wh.has_table(KEYS_TABLE):
        return pd.DataFrame(columns=["key_id", "role", "created", "revoked"])
    t = wh.table(KEYS_TABLE)
    return wh.execute(t.select("key_id", "role", "created", "revoked").order_by("created"), what="list api keys")


def revoke_key(wh: Warehouse, key_id: str, /) -> bool:
    """Mark key ``key_id`` revoked; False when no such key is active."""
    if not wh.has_table(KEYS_TABLE):
        return False
    t = wh.table(KEYS_TABLE)
    found = t.filter((t.key_id == key_id) & t.revoked.isnull())
    if not wh.count(found):
        return False
    stamp = ibis.literal(datetime.now(UTC).replace(tzinfo=None), "timestamp")
    with wh.transaction():
        wh.upsert(KEYS_TABLE, found.mutate(revoked=stamp), ["key_id"])
    return True


def stored_keys(wh: Warehouse, /) -> dict[str, tuple[str, str, str]]:
    """key id -> (role, salt, hash) of the active keys."""
    if not wh.has_table(KEYS_TABLE):
        return {}
    t = wh.table(KEYS_TABLE)
    rows = wh.execute(t.filter(t.revoked.isnull()).select("key_id", "role", "salt", "hash"), what="read api keys")
    return {r.key_id: (r.role, r.salt, r.hash) for r in rows.itertuples()}


def verify_key(key: str, stored: dict[str, tuple[str, str, str]], /) -> ApiKey | None:
    """The stored key that ``key`` is, or None (malformed, unknown, revoked or wrong secret)."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or parts[1] not in stored:
        return None
    role, salt, digest = stored[parts[1]]
    if not hmac.compare_digest(_digest(salt, parts[2]), digest):
        return None
    return ApiKey(parts[1], role)
