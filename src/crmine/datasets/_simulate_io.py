"""Writing the simulated sources: CSV, JSON lines and Parquet, deliberately bad rows, crmine.toml.

Valid rows are rendered by pyarrow; bad rows are extra lines inserted at random positions (except a
few crm customer rows, edited in place) and recorded with their physical line number.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


@dataclass(frozen=True)
class Source:
    """One simulated source file and how its raw columns map to a canonical table."""

    table: str
    file: str
    columns: dict[str, str]  # canonical -> raw, every raw column in file order
    formats: dict[str, str] = field(default_factory=dict)  # canonical -> strptime format
    system: str | None = None


_TS = "%Y-%m-%d %H:%M:%S"
_DAY = "%Y-%m-%d"


def _same(*names: str) -> dict[str, str]:
    return {n: n for n in names}


SOURCES: dict[str, Source] = {
    "crm_customers": Source(
        "customers",
        "crm_customers.csv",
        {
            "customer_id": "cust_no",
            **_same(
                "name",
                "email",
                "phone",
                "address",
                "city",
                "region",
                "postcode",
                "country",
                "birth_date",
                "gender",
                "income",
                "occupation",
                "education",
                "signup_date",
            ),
        },
        {"birth_date": _DAY, "signup_date": _DAY},
        system="crm",
    ),
    "web_customers": Source(
        "customers",
        "web_customers.jsonl",
        {
            "customer_id": "id",
            "name": "full_name",
            "email": "mail",
            "phone": "mobile",
            "address": "street",
            "city": "town",
            "region": "state",
            "postcode": "zip",
            "birth_date": "dob",
            "gender": "sex",
            "income": "annual_income",
            "occupation": "job",
            "education": "edu",
            "signup_date": "registered",
        },
        {"birth_date": "%d/%m/%Y", "signup_date": "%Y-%m-%dT%H:%M:%S"},
        system="web",
    ),
    "products": Source(
        "products",
        "products.csv",
        {
            "product_id": "sku",
            "name": "title",
            **_same("category", "subcategory", "brand", "list_price", "unit_cost"),
        },
    ),
    "promotions": Source(
        "promotions",
        "promotions.csv",
        _same("promotion_id", "name", "type", "start", "end", "discount_pct"),
        {"start": _DAY, "end": _DAY},
    ),
    "campaigns": Source(
        "campaigns",
        "campaigns.csv",
        _same(
            "campaign_id",
            "name",
            "channel",
            "start",
            "end",
            "offer",
            "cost_per_contact",
            "margin_per_response",
        ),
        {"start": _DAY, "end": _DAY},
    ),
    "employees": Source(
        "employees", "employees.csv", _same("agent_id", "team", "hired"), {"hired": _DAY}
    ),
    "transactions": Source(
        "transactions",
        "transactions.csv",
        {
            "order_id": "order_id",
            "line_no": "line_no",
            "customer_id": "customer",
            "ts": "ts",
            "product_id": "sku",
            "quantity": "qty",
            **_same(
                "unit_price",
                "amount",
                "discount",
                "channel",
                "sales_method",
                "store_id",
                "promotion_id",
                "is_return",
            ),
        },
        {"ts": _TS},
    ),
    "campaign_contacts": Source(
        "campaign_contacts",
        "campaign_contacts.csv",
        {
            "campaign_id": "campaign_id",
            "customer_id": "customer",
            **_same("ts", "group", "channel"),
        },
        {"ts": _TS},
    ),
    "campaign_responses": Source(
        "campaign_responses",
        "campaign_responses.csv",
        {
            "campaign_id": "campaign_id",
            "customer_id": "customer",
            **_same("response_type", "ts", "value"),
        },
        {"ts": _TS},
    ),
    "interactions": Source(
        "interactions",
        "interactions.parquet",
        _same(
            "interaction_id",
            "customer_id",
            "ts",
            "channel",
            "type",
            "agent_id",
            "duration_s",
            "resolved",
            "satisfaction",
        ),
    ),
    "feedback": Source(
        "feedback",
        "feedback.jsonl",
        _same("feedback_id", "customer_id", "ts", "channel", "text"),
        {"ts": "%Y-%m-%dT%H:%M:%S"},
    ),
    "consents": Source(
        "consents",
        "consents.csv",
        _same("customer_id", "purpose", "channel", "granted", "ts"),
        {"ts": _TS},
    ),
}


def toml_text(n_customers: int, seed: int) -> str:
    """crmine.toml for the simulated workspace: one [sources.NAME] per file, renamed columns only."""
    out = [
        f"# crmine workspace written by crmine.datasets.simulate(n_customers={n_customers}, seed={seed})",
        "[workspace]",
        'engine = "duckdb"',
        "",
    ]
    for name, s in SOURCES.items():
        out += [f"[sources.{name}]", f'table = "{s.table}"', f'path = "sources/{s.file}"']
        if s.system:
            out.append(f'source_system = "{s.system}"')
        renamed = {c: r for c, r in s.columns.items() if c != r}
        if renamed:
            out.append(f'[sources.{name}.columns]   # canonical = "raw"')
            out += [f'{c} = "{r}"' for c, r in renamed.items()]
        if s.formats:
            out.append(f"[sources.{name}.formats]   # strptime format per timestamp column")
            out += [f'{c} = "{f}"' for c, f in s.formats.items()]
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- rendering


def render_csv(table: pa.Table, header: bool = False) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=header, quoting_style="none"))
    return buf.getvalue()


def csv_header(table: pa.Table) -> bytes:
    return (",".join(table.column_names) + "\n").encode()


def _json_literal(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_string(col.type):
        bad = pc.any(pc.or_(pc.match_substring(col, '"'), pc.match_substring(col, "\\"))).as_py()
        if bad:
            lit = pa.array([json.dumps(v) if v is not None else None for v in col.to_pylist()])
        else:
            lit = pc.binary_join_element_wise('"', col, '"', "")
    elif pa.types.is_boolean(col.type):
        lit = pc.if_else(col, "true", "false")
    else:
        lit = pc.cast(col, pa.string())
    return pc.fill_null(lit, "null")


def render_jsonl(table: pa.Table) -> bytes:
    """One JSON object per line, keys in column order, nulls as null (values need no escaping)."""
    parts: list = []
    for i, name in enumerate(table.column_names):
        parts += [
            ("{" if i == 0 else ", ") + json.dumps(name) + ": ",
            _json_literal(table.column(name)),
        ]
    parts.append("}")
    lines = pc.binary_join_element_wise(*parts, "")
    if len(lines) == 0:
        return b""
    return ("\n".join(lines.to_pylist()) + "\n").encode()


def line_starts(body: bytes) -> np.ndarray:
    """Byte offset of each line, then the end of the body."""
    nl = np.flatnonzero(np.frombuffer(body, dtype=np.uint8) == 10)
    return np.concatenate([[0], nl + 1]).astype(np.int64)


def row_text(body: bytes, starts: np.ndarray, i: int) -> str:
    return body[starts[i] : starts[i + 1] - 1].decode()


# --------------------------------------------------------------------------- bad rows


@dataclass
class Insert:
    """A bad line to insert before data row ``slot`` (0-based; ``slot == n`` appends)."""

    slot: int
    text: str
    column: str
    reason: str


def write_with_inserts(f, body: bytes, starts: np.ndarray, inserts: list[Insert]) -> list[int]:
    """Write ``body`` with the inserted lines; returns each insert's 0-based output row, in input order."""
    order = sorted(range(len(inserts)), key=lambda k: (inserts[k].slot, k))
    out = [0] * len(inserts)
    prev = 0
    for rank, k in enumerate(order):
        s = inserts[k].slot
        f.write(body[starts[prev] : starts[s]])
        f.write(inserts[k].text.encode() + b"\n")
        out[k] = s + rank
        prev = s
    f.write(body[starts[prev] :])
    return out


# A plan entry: (reason, canonical column, raw column, new value or callable(rng) -> value).
# Raw column None with reason duplicate_key repeats an earlier row; with malformed_row adds a field.
Plan = list[tuple[str, str, str | None, object]]


def expand_plan(plan: Plan, count: int, rng: np.random.Generator) -> Plan:
    """``count`` entries cycling through ``plan`` (so each kind appears), in random order."""
    if count <= 0 or not plan:
        return []
    reps = -(-count // len(plan))
    full = (plan * reps)[:count]
    return [full[i] for i in rng.permutation(len(full))]


def _csv_value(v) -> str:
    s = "" if v is None else str(v)
    return f'"{s}"' if ("," in s or '"' in s) else s


def fabricate_csv(
    body: bytes,
    starts: np.ndarray,
    header: list[str],
    plan: Plan,
    rng: np.random.Generator,
    fresh: Callable[[dict, int, np.random.Generator], None] | None,
) -> list[Insert]:
    """Bad lines built from copies of random valid rows; ``fresh`` gives each copy a new unique key."""
    n = starts.size - 1
    out = []
    for k, (reason, column, raw, value) in enumerate(plan):
        i = int(rng.integers(0, n))
        text = row_text(body, starts, i)
        if reason == "duplicate_key":
            out.append(Insert(int(rng.integers(i + 1, n + 1)), text, column, reason))
            continue
        fields = dict(zip(header, text.split(","), strict=True))
        if fresh is not None:
            fresh(fields, k, rng)
        if reason == "malformed_row":
            line = ",".join(fields.values()) + "," + str(value)
            out.append(Insert(int(rng.integers(0, n + 1)), line, "", reason))
            continue
        fields[raw] = value(rng) if callable(value) else value
        out.append(
            Insert(
                int(rng.integers(0, n + 1)),
                ",".join(_csv_value(v) for v in fields.values()),
                column,
                reason,
            )
        )
    return out


def fabricate_records(
    table: pa.Table,
    plan: Plan,
    rng: np.random.Generator,
    fresh: Callable[[dict, int, np.random.Generator], None] | None,
) -> list[tuple[int, dict, str, str]]:
    """Bad rows as dicts (for JSON lines and Parquet): ``(slot, row, column, reason)``."""
    n = table.num_rows
    out = []
    for k, (reason, column, raw, value) in enumerate(plan):
        i = int(rng.integers(0, n))
        row = table.slice(i, 1).to_pylist()[0]
        if fresh is not None:
            fresh(row, k, rng)
        row[raw] = value(rng) if callable(value) else value
        out.append((int(rng.integers(0, n + 1)), row, column, reason))
    return out


def write_jsonl(
    path, table: pa.Table, bad: list[tuple[int, dict, str, str]]
) -> list[tuple[int, str, str]]:
    """Write JSON lines with bad records inserted; returns ``(line, column, reason)`` (first record = 1)."""
    body = render_jsonl(table)
    starts = line_starts(body)
    inserts = [Insert(s, json.dumps(row, default=str), c, r) for s, row, c, r in bad]
    with open(path, "wb") as f:
        rows = write_with_inserts(f, body, starts, inserts)
    return [(r + 1, ins.column, ins.reason) for r, ins in zip(rows, inserts, strict=True)]


def write_parquet(
    path, table: pa.Table, bad: list[tuple[int, dict, str, str]]
) -> list[tuple[int, str, str]]:
    """Write Parquet with bad rows inserted; ``line`` is the 1-based row number."""
    order = sorted(range(len(bad)), key=lambda k: (bad[k][0], k))
    pieces, prev, out = [], 0, [None] * len(bad)
    for rank, k in enumerate(order):
        s, row, c, r = bad[k]
        pieces += [table.slice(prev, s - prev), pa.Table.from_pylist([row], schema=table.schema)]
        out[k] = (s + rank + 1, c, r)
        prev = s
    pieces.append(table.slice(prev))
    pq.write_table(pa.concat_tables(pieces), path)
    return out


def write_csv(
    path,
    table: pa.Table,
    plan: Plan,
    rng: np.random.Generator,
    fresh: Callable[[dict, int, np.random.Generator], None] | None,
) -> list[tuple[int, str, str]]:
    """Write a whole CSV with bad lines; returns ``(line, column, reason)`` with the header as line 1."""
    body = render_csv(table)
    starts = line_starts(body)
    inserts = (
        fabricate_csv(body, starts, table.column_names, plan, rng, fresh) if table.num_rows else []
    )
    with open(path, "wb") as f:
        f.write(csv_header(table))
        rows = write_with_inserts(f, body, starts, inserts)
    return [(r + 2, ins.column, ins.reason) for r, ins in zip(rows, inserts, strict=True)]


def unknown_id(prefix: str, rng: np.random.Generator, width: int = 7) -> str:
    """An identifier in the house style that no record uses (numbers from 9 followed by 0s upward)."""
    return prefix + "9" + "".join(str(d) for d in rng.integers(0, 10, width - 1))
