"""The REST API of a workspace (FastAPI): customers, counts, segments, lift, targets, till events.

``create_app(DIR)`` opens the workspace once and serves it; ``crmine serve DIR`` runs the app on
uvicorn. Every route but ``/v1/health`` needs ``Authorization: Bearer KEY`` (see :mod:`._keys`):
no key or an unknown one is 401, a role without the right 403. One lock serialises the warehouse
(a DuckDB connection is used by one thread at a time). The log holds method, route template,
status and time: never a path's ids, a query's condition, a body, or a key.
"""


# No `from __future__ import annotations`: FastAPI reads the dependencies in the annotations, which
# name closures of create_app.
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

import crmine
from crmine._version import __version__
from crmine.errors import CrmineError, ExpressionError, SchemaError, SettingsError, WorkspaceError
from crmine.features._query import select_customers
from crmine.serve._events import LineStore, TransactionLine, UnknownReference
from crmine.serve._keys import ApiKey, stored_keys, verify_key
from crmine.serve._profile import CustomerView, plain
from crmine.workspace import Workspace

__all__ = ["create_app"]

log = logging.getLogger("crmine.serve")
_bearer = HTTPBearer(auto_error=False, description="An API key made by `crmine keys create DIR --role ROLE`.")


class _State:
    """What the routes share: the workspace, its lock, the keys and the customer view."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.lock = threading.Lock()
        self.keys = stored_keys(ws.warehouse)
        self.keys_read = time.monotonic()
        self.lines = LineStore(ws.warehouse, inferred=ws.settings.inferred_tables())
        self.view = CustomerView(ws.warehouse, derived=dict(ws.settings.analysis.get("derived", {}) or {}),
                                 models=_saved_models(ws))

    def key(self, text: str) -> ApiKey | None:
        found = verify_key(text, self.keys)
        if found is None and time.monotonic() - self.keys_read > 1.0:  # a key made since: read again
            with self.lock:
                self.keys, self.keys_read = stored_keys(self.ws.warehouse), time.monotonic()
            found = verify_key(text, self.keys)
        return found


def _saved_models(ws: Workspace) -> dict[str, Any]:
    """The models ``ws.models.load`` can load (churn, response_*, cross_sell_*); others are left out."""
    models = {}
    for path in sorted((ws.root / "models").glob("*.joblib")):
        try:
            models[path.stem] = ws.models.load(path.stem)
        except (CrmineError, OSError) as e:
            log.warning("model %s not loaded: %s", path.stem, type(e).__name__)
    return models


class TargetRequest(BaseModel):
    """A target list from a saved model's scores (see ``ws.models.target``)."""

    name: str = Field("churn", max_length=100, description="The model whose scores rank the customers.")
    purpose: str = Field("marketing", max_length=100)
    channel: str = Field("email", max_length=100)
    top_n: int | None = Field(None, ge=1, le=1_000_000)
    budget: float | None = Field(None, ge=0, allow_inf_nan=False)
    margin: float | None = Field(None, allow_inf_nan=False)
    contact_cost: float | None = Field(None, ge=0, allow_inf_nan=False)


def create_app(workspace: str | os.PathLike | Workspace) -> FastAPI:
    """The API of ``workspace`` (a folder or an open :class:`crmine.workspace.Workspace`)."""
    ws = workspace if isinstance(workspace, Workspace) else crmine.open(workspace)
    state = _State(ws)
    app = FastAPI(title="crmine", version=__version__,
                  description="Customer features, scores and counts; real-time scoring of till events.")
    app.state.crmine = state

    def needs(right: str) -> Callable[..., ApiKey]:
        def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> ApiKey:
            key = state.key(credentials.credentials) if credentials is not None else None
            if key is None:
                raise HTTPException(401, "A valid API key is required: Authorization: Bearer KEY.",
                                    headers={"WWW-Authenticate": "Bearer"})
            if right not in key.rights:
                raise HTTPException(403, f"The role {key.role!r} may not do this (it needs the {right!r} right).")
            return key

        return check

    @app.middleware("http")
    async def _log(request: Request, call_next):
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as e:  # noqa: BLE001 - a traceback could show values: the type only
            log.error("%s failed: %s", getattr(request.scope.get("route"), "path", "?"), type(e).__name__)
            response = JSONResponse({"detail": "The server failed to answer; see its log."}, status_code=500)
        route = request.scope.get("route")
        log.info("%s %s %d %.1f ms", request.method, getattr(route, "path", "(no route)"), response.status_code,
                 (time.perf_counter() - started) * 1000)
        return response

    @app.exception_handler(CrmineError)
    async def _crmine_error(request: Request, e: CrmineError) -> JSONResponse:
        if isinstance(e, ExpressionError | SchemaError | SettingsError):
            return JSONResponse({"detail": str(e)}, status_code=422)
        if isinstance(e, WorkspaceError):
            return JSONResponse({"detail": str(e)}, status_code=409)
        log.error("%s failed: %s", getattr(request.scope.get("route"), "path", "?"), type(e).__name__)
        return JSONResponse({"detail": "The warehouse failed to answer; see the server log."}, status_code=500)

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness; needs no key."""
        return {"status": "ok", "version": __version__, "models": state.view.model_names}

    @app.get("/v1/customers/{customer_id}", tags=["customers"])
    def customer(customer_id: Annotated[str, Path(max_length=200)],
                 key: Annotated[ApiKey, Depends(needs("read"))]) -> dict[str, Any]:
        """Features (the customer-table columns), scores, segment, RFM segment and recommendations.

        Personal columns (name, email, phone, address) are added under ``personal`` for roles with
        the ``personal`` right (admin) only.
        """
        with state.lock:
            doc = state.view.document(state.view.unified_id(customer_id), personal="personal" in key.rights)
        if doc is None:
            raise HTTPException(404, "No such customer in the warehouse.")
        return doc

    @app.get("/v1/segments", tags=["customers"])
    def segments(key: Annotated[ApiKey, Depends(needs("read"))]) -> dict[str, Any]:
        """Customers per clustering segment and per RFM segment, from the last batch run."""
        wh = ws.warehouse
        out: dict[str, Any] = {"segments": [], "rfm_segments": []}
        with state.lock:
            if wh.has_table("customer_segments"):
                t = wh.table("customer_segments")
                by = [c for c in ("segment", "name") if c in t.columns]
                got = wh.execute(t.group_by(by).aggregate(customers=t.count()).order_by(by), what="segment counts")
                out["segments"] = [{k: plain(v) for k, v in r.items()} for r in got.to_dict("records")]
            if wh.has_table("rfm_scores"):
                t = wh.table("rfm_scores")
                got = wh.execute(t.group_by("segment").aggregate(customers=t.count()).order_by("segment"),
                                 what="RFM segment counts")
                out["rfm_segments"] = [{k: plain(v) for k, v in r.items()} for r in got.to_dict("records")]
        return out

    @app.get("/v1/query", tags=["customers"])
    def query(key: Annotated[ApiKey, Depends(needs("read"))],
              condition: Annotated[str, Query(max_length=2000, description="The filter language, e.g. "
                                              "\"orders >= 2 and region = 'North'\".")] = "") -> dict[str, Any]:
        """How many customers of the built customer table meet ``condition``; errors in it are 422."""
        with state.lock:
            table = ws.customers.table()
            count = ws.warehouse.count(select_customers(table, condition))
            as_of = ws.customers.as_of()
        return {"count": count, "as_of": str(as_of.date())}

    @app.get("/v1/campaigns/lift", tags=["campaigns"])
    def lift(key: Annotated[ApiKey, Depends(needs("read"))]) -> dict[str, Any]:
        """Each campaign's lift over its control group, from the last batch run (``campaign_lift``)."""
        wh = ws.warehouse
        with state.lock:
            if not wh.has_table("campaign_lift"):
                return {"lift": []}
            got = wh.execute(wh.table("campaign_lift"), what="read campaign_lift")
        return {"lift": [{k: plain(v) for k, v in r.items()} for r in got.to_dict("records")]}

    @app.post("/v1/targets", tags=["campaigns"])
    def targets(body: TargetRequest, key: Annotated[ApiKey, Depends(needs("targets"))]) -> dict[str, Any]:
        """A consented target list by expected profit, exported the governed way (audit row, file)."""
        with state.lock:
            result = ws.models.target(body.name, purpose=body.purpose, channel=body.channel, top_n=body.top_n,
                                      budget=body.budget, margin=body.margin, contact_cost=body.contact_cost,
                                      user=f"api key {key.key_id}")
        columns = [c for c in ("customer_id", "probability", "expected_profit", "rank") if c in result.customers]
        return {"file": result.file.name if result.file else None, "selected": int(result.selected),
                "excluded_no_consent": int(result.excluded_no_consent),
                "expected_profit": plain(result.expected_profit),
                "customers": [{k: plain(v) for k, v in r.items()}
                              for r in result.customers[columns].to_dict("records")]}

    @app.post("/v1/events/transactions", tags=["events"], status_code=201,
              responses={200: {"description": "The line was received before; nothing was added."},
                         422: {"description": "The line breaks a rule of the transactions schema."}})
    def post_transaction(line: TransactionLine, key: Annotated[ApiKey, Depends(needs("events"))]) -> Any:
        """Store one till line (committed before the answer), then return the customer's features and scores."""
        with state.lock:
            try:
                added = state.lines.store(line)
                if added:
                    state.view.saw(line)
            except UnknownReference as e:
                raise HTTPException(422, [{"loc": ["body", e.column], "type": "unknown_reference",
                                           "msg": f"unknown_reference: no such id in {e.table}, and this workspace "
                                                  f"does not infer {e.table} (references = \"strict\" or a "
                                                  f"{e.table} source is loaded)."}]) from None
            doc: dict[str, Any] = {"customer_id": None, "features": {}, "scores": {}}
            if line.customer_id is not None:
                doc = state.view.document(state.view.unified_id(line.customer_id)) or {
                    **doc, "customer_id": line.customer_id}
        doc = {"received": added, **doc}
        return doc if added else JSONResponse(doc, status_code=200)

    return app
