"""Queries compiled once and run many times with bound values (DuckDB prepared statements).

Compiling an Ibis expression to SQL costs tens of milliseconds for a lookup and about a second for
the customer table, while DuckDB runs the SQL in a few milliseconds: the API pays it once. The
expression is built with a random token for each value; the compiled SQL has each token's quoted
literal replaced by a numbered parameter (``$1``...), and the values travel as parameters, never as
SQL text. On other engines the expression is built and executed on every call.

This belongs in ``crmine.warehouse`` (a ``Warehouse.prepare``); it lives here until that exists.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from crmine.errors import EngineError
from crmine.warehouse import Warehouse

__all__ = ["Prepared"]


class Prepared:
    """``build(**values)`` compiled once; :meth:`run` executes it with ``values`` bound.

    Parameters
    ----------
    wh
        The warehouse.
    build
        Makes the expression from one string-valued Ibis expression per name (cast it to the type
        needed, e.g. ``value.cast("float64")``).
    names
        The names of the values, in the order :meth:`run` takes them.
    what
        What the query is, for error messages.
    """

    def __init__(self, wh: Warehouse, build: Callable[..., ir.Table], names: Sequence[str], *, what: str) -> None:
        self._wh, self._build, self._names, self._what = wh, build, tuple(names), what
        self._sql: str | None = None
        tokens = {n: f"crmine_value_{secrets.token_hex(8)}" for n in self._names}
        expr = build(**{n: ibis.literal(t) for n, t in tokens.items()})
        self.columns: tuple[str, ...] = tuple(expr.columns)
        if wh.engine != "duckdb":
            return
        sql = ibis.to_sql(expr, dialect="duckdb")
        for i, n in enumerate(self._names, start=1):
            quoted = f"'{tokens[n]}'"
            if quoted not in sql:  # the compiler wrote the value another way: run it unprepared
                return
            sql = sql.replace(quoted, f"${i}")
        self._sql = sql

    def run(self, *values: Any) -> pd.DataFrame:
        """The result for ``values`` (one per name)."""
        if self._sql is None:
            expr = self._build(**{n: ibis.literal(v, "string") for n, v in zip(self._names, values, strict=True)})
            return self._wh.execute(expr, what=self._what)
        try:
            table = self._wh.duckdb.execute(self._sql, [None if v is None else str(v) for v in values]).to_arrow_table()
        except Exception as e:  # noqa: BLE001 - DuckDB raises many types
            raise EngineError(f"duckdb failed to {self._what}: {type(e).__name__}: {e}") from e
        return table.to_pandas()
