"""Till events: one canonical transaction line, checked by the schema's rules, stored durably.

The request model is generated from :data:`crmine.schema.TABLES` ``["transactions"]``, so a posted
line obeys the rules ingest applies to a file: the column types, the required columns, the minimum
and maximum of each number, and the point-in-time window of a past fact (not before
:data:`crmine.schema.EARLIEST`, not later than now plus ``future_tolerance_days``). A line is stored
in ``transactions`` and its history in one warehouse transaction, which commits before the server
answers; a line whose (order_id, line_no) is stored already changes nothing.

Customers and products the line names must exist, unless the workspace infers them (``references
= "infer"`` and no source loads that table; see :mod:`crmine.io._masters`): then they are created.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from crmine.errors import EngineError
from crmine.io._changes import history_name
from crmine.io._masters import infer_masters
from crmine.schema import EARLIEST, TABLES, Column
from crmine.serve._prepared import Prepared
from crmine.settings import FUTURE_TOLERANCE_DAYS
from crmine.warehouse import Warehouse

__all__ = ["LineStore", "TransactionLine", "UnknownReference"]

CANON = TABLES["transactions"]
_PY = {"string": str, "float64": float, "int64": int, "boolean": bool, "timestamp": datetime}
_MAX_TEXT = 200
_INT64_MAX = 2**63 - 1


class UnknownReference(ValueError):
    """A posted line names a customer or product that does not exist and may not be inferred."""

    def __init__(self, column: str, table: str) -> None:
        super().__init__(column, table)
        self.column, self.table = column, table


def _field(col: Column) -> tuple[Any, Any]:
    limits: dict[str, Any] = {"description": col.description}
    if col.min is not None:
        limits["ge"] = col.min
    if col.max is not None:
        limits["le"] = col.max
    if col.dtype == "int64":  # what the warehouse column can hold
        limits["le"] = min(limits.get("le", _INT64_MAX), _INT64_MAX)
    if col.dtype == "string":
        limits.update(min_length=1, max_length=_MAX_TEXT)
    if col.dtype == "float64":
        limits["allow_inf_nan"] = False
    py = _PY[col.dtype]
    if col.required:
        return Annotated[py, Field(**limits)], ...
    return Annotated[py | None, Field(**limits)], None


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=False)

    @field_validator("ts", check_fields=False)
    @classmethod
    def _a_past_fact(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        latest = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=FUTURE_TOLERANCE_DAYS)
        if value < datetime.fromisoformat(EARLIEST):
            raise ValueError(f"out_of_range: a sale lies on or after {EARLIEST}")
        if value > latest:
            raise ValueError(f"out_of_range: a sale lies in the past (at most {FUTURE_TOLERANCE_DAYS:g} day ahead)")
        return value


TransactionLine: type[BaseModel] = create_model(
    "TransactionLine",
    __base__=_Line,
    __doc__="One order line as the till records it, in the canonical transactions columns.",
    **{c.name: _field(c) for c in CANON.columns},
)


def _row(line: BaseModel, table: ibis.Table) -> pa.Table:
    values = line.model_dump()
    schema = table.schema().to_pyarrow()
    return pa.Table.from_pylist([{c: values.get(c) for c in table.columns}], schema=schema)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class LineStore:
    """Stores posted lines in ``wh``; the checks are compiled once (see :mod:`._prepared`).

    ``inferred`` are the master tables (customers, products) whose missing rows may be created.
    """

    def __init__(self, wh: Warehouse, /, *, inferred: frozenset[str]) -> None:
        self._wh, self._inferred = wh, inferred

        def stored(order_id: ir.StringValue, line_no: ir.StringValue) -> ir.Table:
            t = wh.table(CANON.name)
            return t.filter((t.order_id == order_id) & (t.line_no == line_no.cast("int64"))).select("line_no")

        self._stored = Prepared(wh, stored, ["order_id", "line_no"], what="look up a posted line")
        self._refs: dict[str, Prepared] = {}
        for col in (c for c in CANON.columns if c.references):
            ref_table, ref_col = col.references.split(".")
            if ref_table not in inferred:
                self._refs[col.name] = Prepared(wh, _finder(wh, ref_table, ref_col), ["value"],
                                                what=f"look up {ref_table}")

    def store(self, line: BaseModel, /) -> bool:
        """Insert ``line`` and its history row in one transaction; False when it was stored before.

        Raises :class:`UnknownReference` for an id that must exist and does not.
        """
        wh = self._wh
        with wh.transaction():
            if len(self._stored.run(line.order_id, line.line_no)):
                return False
            for column, found in self._refs.items():
                value = getattr(line, column)
                if value is not None and not len(found.run(value)):
                    raise UnknownReference(column, CANON.column(column).references.split(".")[0])
            target = wh.table(CANON.name)
            if self._inferred:
                infer_masters(wh, CANON, wh.frame(_row(line, target)), self._inferred)
            values = line.model_dump()
            stamp = {"valid_from": datetime.now(UTC).replace(tzinfo=None), "valid_to": None, "load_id": None,
                     "change": "insert"}
            for name in (CANON.name, history_name(CANON.name)):
                columns = wh.table(name).columns
                self._insert(name, columns, [values.get(c, stamp.get(c)) for c in columns])
        return True

    def _insert(self, name: str, columns: tuple[str, ...], values: list[Any]) -> None:
        wh = self._wh
        if wh.engine != "duckdb":
            t = wh.table(name)
            row = pa.Table.from_pylist([dict(zip(columns, values, strict=True))], schema=t.schema().to_pyarrow())
            wh.insert(name, row)
            return
        # Names from the table's own schema, quoted; the values are bound parameters.
        sql = (f"INSERT INTO {_quoted(name)} ({', '.join(map(_quoted, columns))}) "
               f"VALUES ({', '.join(f'${i}' for i in range(1, len(columns) + 1))})")
        try:
            wh.duckdb.execute(sql, values)
        except Exception as e:  # noqa: BLE001 - DuckDB raises many types
            raise EngineError(f"duckdb failed to insert a posted line into {name}: {type(e).__name__}") from e


def _finder(wh: Warehouse, table: str, column: str):
    def rows(value: ir.StringValue) -> ir.Table:
        t = wh.table(table)
        return t.filter(t[column] == value).select(column).limit(1)

    return rows
