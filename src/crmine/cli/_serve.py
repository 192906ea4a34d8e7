"""``crmine serve DIR`` (the REST API on uvicorn) and ``crmine keys ...`` (API keys and roles)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from crmine.cli._common import Dir
from crmine.cli._common import ui as _ui

__all__ = ["keys_app", "serve_command"]

keys_app = typer.Typer(help="API keys for `crmine serve`: create (shown once), list, revoke. On DuckDB, run "
                            "these while the server is stopped (one process writes the warehouse).",
                       no_args_is_help=True, rich_markup_mode=None)



def serve_command(
    path: Dir,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
) -> None:
    """Serve the workspace's REST API (OpenAPI schema at /openapi.json; keys: `crmine keys create`)."""
    import uvicorn

    from crmine.serve import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(path)
    _ui().err.print(f"crmine API for {path} on http://{host}:{port} (docs at /docs)")
    # uvicorn's access log prints paths and query strings, which may hold ids and filter values: off.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")


@keys_app.command("create")
def keys_create(
    path: Dir,
    role: Annotated[str, typer.Option(help="admin, analyst, marketer or till.")],
) -> None:
    """Make a key for ROLE; the key is printed once, alone on the last line (only its hash is kept)."""
    import crmine
    from crmine.serve import create_key

    with crmine.open(path) as ws:
        key = create_key(ws.warehouse, role=role)
    ui = _ui()
    ui.console.print(f"Created key {key.split('_')[1]} with role {role}. Keep it now: it is not shown again.")
    print(key)


@keys_app.command("list")
def keys_list(path: Dir) -> None:
    """Key ids, roles, and when each was created or revoked (never the keys)."""
    import crmine
    from crmine.serve import list_keys

    with crmine.open(path) as ws:
        keys = list_keys(ws.warehouse)
    for r in keys.itertuples():
        revoked = "" if r.revoked is None or str(r.revoked) == "NaT" else f" revoked {r.revoked:%Y-%m-%d %H:%M}"
        print(f"{r.key_id}  {r.role:<8}  created {r.created:%Y-%m-%d %H:%M}{revoked}")


@keys_app.command("revoke")
def keys_revoke(path: Dir, key_id: Annotated[str, typer.Argument(help="The key id (second part of the key).")]) -> None:
    """Revoke a key: requests with it are refused from the next server start."""
    import crmine
    from crmine.errors import SettingsError
    from crmine.serve import revoke_key

    with crmine.open(path) as ws:
        if not revoke_key(ws.warehouse, key_id):
            raise SettingsError(f"No active key with id {key_id!r}; see `crmine keys list {path}`.")
    print(f"Revoked {key_id}.")
