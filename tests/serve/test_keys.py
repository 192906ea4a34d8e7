"""`crmine keys`: a key is shown once, alone on the last line; only a salted hash is stored."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import crmine
from crmine.cli._app import app
from crmine.errors import SettingsError
from crmine.serve import RIGHTS, create_key
from crmine.serve._keys import stored_keys, verify_key


def test_keys_create_prints_the_key_alone_on_the_last_line_and_stores_a_hash(shop):
    out = CliRunner().invoke(app, ["keys", "create", str(shop), "--role", "till"])
    assert out.exit_code == 0, out.output
    key = out.stdout.rstrip("\n").splitlines()[-1]
    assert key.startswith("crm_") and " " not in key and len(key) > 40
    with crmine.open(shop) as ws:
        stored = ws.warehouse.execute(ws.table("api_keys"))
        assert key not in stored.astype(str).to_numpy().ravel().tolist()
        secret = key.split("_", 2)[2]
        assert not any(secret in str(v) for v in stored.to_numpy().ravel())
        found = verify_key(key, stored_keys(ws.warehouse))
    assert found is not None and found.role == "till" and found.rights == RIGHTS["till"]
    listed = CliRunner().invoke(app, ["keys", "list", str(shop)])
    assert found.key_id in listed.stdout and secret not in listed.stdout


def test_two_keys_differ_and_a_revoked_key_no_longer_verifies(ws):
    a, b = create_key(ws.warehouse, role="analyst"), create_key(ws.warehouse, role="analyst")
    assert a != b
    key_id = a.split("_")[1]
    assert verify_key(a, stored_keys(ws.warehouse)) is not None
    ws.close()
    out = CliRunner().invoke(app, ["keys", "revoke", str(ws.root), key_id])
    assert out.exit_code == 0, out.output
    with crmine.open(ws.root) as again:
        keys = stored_keys(again.warehouse)
        assert verify_key(a, keys) is None and verify_key(b, keys) is not None


def test_an_unknown_role_is_refused(ws):
    with pytest.raises(SettingsError, match="Unknown role 'boss'; choose one of admin"):
        create_key(ws.warehouse, role="boss")
