"""Type and check staged rows against the canonical schema, as one Ibis expression.

Each row gets the typed canonical columns plus ``_reason``, ``_column`` and ``_detail``: null when
the row is good, otherwise the first rule it breaks, in this order: a required value missing, a
value of the wrong type, a derived column that cannot be computed, a value out of range, a
reference to an unknown key, a duplicate key. The expression runs unchanged on DuckDB and Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import ibis
import ibis.expr.types as ir

from crmine._expression import compile_expression, referenced_columns
from crmine.errors import ExpressionError, SchemaError
from crmine.io._derive import finite, guarded
from crmine.io._header import shown_names
from crmine.io._read import LINE, REC
from crmine.io._retail import retail_lines
from crmine.schema import EARLIEST, LATEST, Column, Table
from crmine.settings import FUTURE_TOLERANCE_DAYS, SourceSettings
from crmine.warehouse import Warehouse
from crmine.warehouse._engines import parse_timestamp, strip

__all__ = ["REASONS", "checked_rows", "provided_columns", "resolve_columns"]

REASONS = {
    "missing_required": "a required value is empty",
    "bad_type": "the value cannot be read as the column's type",
    "out_of_range": "the value is outside the allowed range",
    "unknown_reference": "the value refers to a key that does not exist",
    "duplicate_key": "the key repeats an earlier row of the file",
    "superseded": "a later version of the row (by the source's version column) is already loaded",
    "id_collision": "the customer_id is already held by a record of another source system",
    "malformed_row": "the record cannot be split into fields",
    "derive_failed": "a derived column could not be computed",
    "repeated_header": "the line repeats the header (files joined end to end)",
    "field_too_long": "a field is longer than 10 MB, the most one value may hold",
    "erased": "the row is about a person who was erased (privacy_suppressed); the raw record is not kept",
}
_INT64_BOUND = 2.0**63
_NO_VALUE = ("it gives no value although every column it reads has one (e.g. a logarithm or square root "
             "outside its domain, a division by zero, a number beyond 64 bits)")
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")


def resolve_columns(source: SourceSettings, canon: Table, present: tuple[str, ...]) -> dict[str, str | None]:
    """Map each canonical column to the raw column that feeds it (None when absent).

    Raises one SchemaError naming every required column that is neither in the source nor derived.
    """
    mapping: dict[str, str | None] = {}
    missing = []
    for col in canon.columns:
        raw = source.raw_name(col.name)
        if raw in present:
            mapping[col.name] = raw
        else:
            mapping[col.name] = None
            needed = col.required and not col.synthesised and col.name not in source.derive
            if col.name in source.columns or needed:
                missing.append(f"{col.name} (looked for {raw!r})" if raw != col.name else col.name)
    if missing:
        raise SchemaError(
            f"Source {source.name!r} ({source.location()}) lacks column(s) for {canon.name}: "
            f"{', '.join(missing)}. Existing columns: {shown_names(present)}. "
            f"Map them in crmine.toml under [sources.{source.name}.columns], e.g. "
            f'{missing[0].split(" ")[0]} = "<raw name>".'
        )
    return mapping


def _typed(raw: ir.Column, col: Column, fmt: str | None, engine: str) -> tuple[ir.Value, ir.BooleanValue]:
    """The typed value and a flag that is true when a non-empty raw value failed to parse."""
    if raw.type().is_string():
        text = strip(raw, engine).nullif("")  # once in the SQL (an ifelse would repeat the strip)
        present = text.notnull()
    else:
        text, present = raw, raw.notnull()
    if col.dtype == "string":
        value = text.cast("string")
        if col.name.endswith("_id") and raw.type().is_string():
            # A spreadsheet turns id 17850 into "17850.0"; read it once as the id it is, so that
            # it matches the same id written plainly elsewhere.
            value = ibis.ifelse(value.re_search(r"^[0-9]+\.0+$"), value.substr(0, value.find(".")), value)
    elif col.dtype == "timestamp":
        if fmt and raw.type().is_string():
            value = parse_timestamp(text, fmt, engine)
        else:
            value = text.try_cast("timestamp")
    elif col.dtype == "boolean":
        if raw.type().is_string():
            low = text.lower()
            value = ibis.cases((low.isin(_TRUE), True), (low.isin(_FALSE), False), else_=ibis.null()).cast("boolean")
        else:
            value = text.try_cast("boolean")
    elif col.dtype == "int64" and not raw.type().is_integer():
        # "3.0" is a fine line number; "3.5", NaN, infinity and 1e20 (beyond 64 bits) are not.
        as_float = text.try_cast("float64")
        # (x % 1 is NaN for NaN and infinity; Ibis' floor() would cast to an integer first.)
        whole = ((as_float % 1 == 0) & (as_float >= -_INT64_BOUND) & (as_float < _INT64_BOUND))
        value = ibis.ifelse(whole.fill_null(False), as_float.try_cast("int64"), ibis.null().cast("int64"))
        if raw.type().is_string():  # digits alone are read exactly, not through a float
            value = ibis.ifelse(text.re_search(r"^[+-]?[0-9]+$"), text.try_cast("int64"), value)
    else:
        value = text.try_cast(col.dtype)
        if col.dtype == "float64":  # NaN and infinity are not amounts, prices or quantities
            value = ibis.ifelse(finite(value).fill_null(True), value, ibis.null().cast("float64"))
    return value, present & value.isnull()


def _bad_type_detail(col: Column, fmt: str | None) -> str:
    if fmt:
        return f"not a valid {col.dtype} in format {fmt}"
    return {"int64": "not a valid int64 (a whole number within 64 bits)",
            "float64": "not a valid float64 (a finite number; NaN and infinity are not values)"}.get(
        col.dtype, f"not a valid {col.dtype}")


def _time_checks(v: ir.TimestampValue, col: Column, latest_event: datetime, tolerance: float) -> list:
    """Range rules of a timestamp: after EARLIEST, and before the load time (past facts) or LATEST."""
    checks = [(v < ibis.literal(datetime.fromisoformat(EARLIEST)), f"before {EARLIEST}, the earliest plausible date")]
    if col.planned:
        checks.append((v >= ibis.literal(datetime.fromisoformat(LATEST)),
                       f"on or after {LATEST}, a placeholder rather than a planned day (leave it empty for none)"))
    else:
        checks.append((v > ibis.literal(latest_event),
                       f"later than the load time plus {tolerance:g} day(s) (future_tolerance_days under "
                       "[ingest] in crmine.toml)"))
    return checks


def _repeats_header(staged: ir.Table, mapping: dict[str, str | None], engine: str) -> ir.BooleanValue:
    """True on a line whose every mapped text value is its own column name: a second header."""
    raws = [r for r in dict.fromkeys(mapping.values()) if r is not None and staged[r].type().is_string()]
    if not raws:
        return ibis.literal(False)
    return ibis.and_(*[(strip(staged[r], engine) == r).fill_null(False) for r in raws])


def checked_rows(
    wh: Warehouse, staged: ir.Table, source: SourceSettings, canon: Table, mapping: dict[str, str | None],
    *, inferred: frozenset[str] = frozenset(), future_tolerance_days: float = FUTURE_TOLERANCE_DAYS,
    erased: Callable[[ir.Table], ir.BooleanValue | None] | None = None,
) -> ir.Table:
    """The staged rows, typed to ``canon``, each with the first rule it breaks (or none).

    References to a table in ``inferred`` are not checked: the caller creates the missing rows.
    An event time later than now plus ``future_tolerance_days`` is out of range. ``erased`` gives, for
    the typed rows, the flag of those about an erased person (quarantined as ``erased`` before any rule).
    Writes one scratch table, ``_typed_<source>``, which the caller drops with the stage.
    """
    latest_event = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=future_tolerance_days)
    values: dict[str, ir.Value] = {}
    flags: dict[str, ir.BooleanValue] = {}
    rules: list[tuple[str, str, str, str]] = []  # (flag column, reason, column, detail)

    for col in canon.columns:
        raw = mapping[col.name]
        if raw is None:
            values[col.name] = ibis.null().cast(col.dtype)
            continue
        value, bad = _typed(staged[raw], col, source.formats.get(col.name), wh.engine)
        values[col.name] = value
        flags[f"_bad_type_{col.name}"] = bad
        rules.append((f"_bad_type_{col.name}", "bad_type", col.name,
                      _bad_type_detail(col, source.formats.get(col.name))))
    if source.source_system and mapping.get("source_system") is None and "source_system" in values:
        values["source_system"] = ibis.literal(source.source_system)
    if source.id_prefix and "customer_id" in values:  # keeps two systems' raw ids apart
        values["customer_id"] = ibis.literal(source.id_prefix) + values["customer_id"]

    flags["_header_again"] = _repeats_header(staged, mapping, wh.engine)
    header_rule = ("_header_again", "repeated_header", "", "the line repeats the header")
    typed = staged.select(**values, **flags, **{LINE: staged[LINE], REC: staged[REC]})
    erased_rules = []  # first of all: a row about an erased person is quarantined as erased, whatever else
    if erased is not None and (erased_flag := erased(typed)) is not None:
        typed = typed.mutate(_erased=erased_flag)
        erased_rules = [("_erased", "erased", "customer_id", "about an erased person")]
    # Derived columns see the typed canonical columns (and earlier derived ones). A row on which
    # one cannot be computed (log of a negative number, ...) is quarantined as derive_failed.
    derive_flags: dict[str, list[str]] = {}
    for name, text in source.derive.items():
        try:
            expr = compile_expression(text, typed)
        except ExpressionError as e:
            raise ExpressionError(f"In [sources.{source.name}.derive] {name}: {e}") from None
        safe = guarded(expr)
        expr = safe.value
        failures = list(safe.failures)
        reads = sorted(referenced_columns(text, typed))
        if reads:  # however the expression gives up (an error, or null by design), nothing came of values
            present = ibis.and_(*[typed[c].notnull() for c in reads])
            failures.append((present & expr.isnull(), _NO_VALUE))
        fills = name in canon.column_names  # a source value, where present, wins over the derived one
        if fills:
            expr = ibis.coalesce(typed[name], expr.try_cast(canon.column(name).dtype))
        flags_now = {}
        for i, (failed, cause) in enumerate(failures):
            flag = f"_derive{i}_{name}"
            flags_now[flag] = (typed[name].isnull() & failed) if fills else failed
            rules.append((flag, "derive_failed", name, f"{name} = {text!r} cannot be computed: {cause}"))
        derive_flags[name] = list(flags_now)
        typed = typed.mutate(**{name: expr}, **flags_now)
    if canon.name == "transactions":
        typed = retail_lines(typed, source, mapping)

    # Range rules on the typed values; a missing required value explains a null best, so it comes first.
    range_flags: dict[str, ir.BooleanValue] = {}
    missing_rules = []
    for col in canon.columns:
        v = typed[col.name]
        if col.required:
            # A value that is present but unreadable is a bad_type, not a missing value; a derived
            # value that could not be computed is a derive_failed.
            explained = [typed[f] for f in (f"_bad_type_{col.name}", *derive_flags.get(col.name, ())) if f in typed.columns]
            unexplained = ~ibis.or_(*[e.fill_null(False) for e in explained]) if explained else ibis.literal(True)
            range_flags[f"_missing_{col.name}"] = v.isnull() & unexplained
            missing_rules.append((f"_missing_{col.name}", "missing_required", col.name, "required value is empty"))
        checks = _time_checks(v, col, latest_event, future_tolerance_days) if col.dtype == "timestamp" else []
        if col.min is not None:
            checks.append((v < col.min, f"below the minimum {col.min:g}"))
        if col.max is not None:
            checks.append((v > col.max, f"above the maximum {col.max:g}"))
        if col.allowed:
            checks.append((v.notnull() & ~v.isin(list(col.allowed)), f"not one of {', '.join(col.allowed)}"))
        for i, (cond, detail) in enumerate(checks):
            range_flags[f"_range{i}_{col.name}"] = cond
            rules.append((f"_range{i}_{col.name}", "out_of_range", col.name, detail))
    typed = typed.mutate(**range_flags)
    rules = [*erased_rules, header_rule, *missing_rules, *rules]

    # References: the referenced key must already be in the warehouse.
    for col in canon.columns:
        if col.references is None or mapping[col.name] is None:
            continue
        ref_table, ref_col = col.references.split(".")
        if ref_table in inferred:
            continue
        ref = f"_ref_{col.name}"
        keys = wh.table(ref_table).select(**{ref: wh.table(ref_table)[ref_col]}).distinct()
        typed = typed.left_join(keys, typed[col.name] == keys[ref])
        typed = typed.mutate(**{f"_unknown_{col.name}": typed[ref].isnull() & typed[col.name].notnull()}).drop(ref)
        rules.append((f"_unknown_{col.name}", "unknown_reference", col.name, f"no such {ref_col} in {ref_table}"))

    # Each row's first broken rule, as an index into ``rules``; its reason, column and detail are
    # looked up from the index, so the flags are evaluated once.
    def first_broken(rules: list[tuple[str, str, str, str]]) -> ir.IntegerValue:
        return ibis.cases(*[(typed[r[0]].fill_null(False), i) for i, r in enumerate(rules)],
                          else_=ibis.null().cast("int16"))

    # Keys: a repeat of an earlier valid row of this file is a duplicate (which one is meant is
    # unknowable); only valid rows compete for a key, so a bad row never shadows a good one. A key
    # already in the warehouse is a change: the row updates the stored one, or leaves it alone when
    # it is the same, or is quarantined as superseded when its version is older.
    # Computed once: the typing and every rule so far; what follows reads this table twice.
    typed = wh.materialize(f"_typed_{source.name}", typed.mutate(_pre=first_broken(rules)))
    key = list(source.row_key)
    keyname = ",".join(key)
    valid = typed.filter(typed._pre.isnull())
    first = valid.group_by(*[valid[k].name(f"_f_{k}") for k in key]).aggregate(_first=valid[REC].min())
    typed = typed.left_join(first, [typed[k].identical_to(first[f"_f_{k}"]) for k in key])
    typed = typed.mutate(_key_repeat=typed._pre.isnull() & (typed[REC] != typed._first)).drop(
        "_first", *[f"_f_{k}" for k in key])
    rules.append(("_key_repeat", "duplicate_key", keyname, "key repeats an earlier row"))
    keep = [*canon.column_names, *[n for n in source.derive if n not in canon.column_names]]
    change = ibis.literal("insert")
    if wh.count(canon.name) > 0:  # on a first load there is nothing to compare with
        target = wh.table(canon.name)
        compared = [c for c in provided_columns(source, canon, mapping) if c in target.columns]
        # Source ids are unique per source system: a customer record never updates another system's.
        guard = canon.name == "customers" and "source_system" in target.columns and "source_system" not in key
        stored = target.select(_k_found=ibis.literal(True), **{f"_k_{k}": target[k] for k in key},
                               **{f"_s_{c}": target[c] for c in compared if c not in key},
                               **({"_k_system": target.source_system} if guard else {}))
        typed = typed.left_join(stored, [typed[k].identical_to(stored[f"_k_{k}"]) for k in key])
        same = ibis.and_(*[typed[c].identical_to(typed[f"_s_{c}"].cast(typed[c].type()))
                           for c in compared if c not in key])
        found = typed._k_found.fill_null(False)
        change = ibis.cases((~found, "insert"), (same, "unchanged"), else_="update")
        if source.version is not None and source.version not in key:
            v = source.version
            older = found & (typed[v] < typed[f"_s_{v}"].cast(typed[v].type())).fill_null(False)
            typed = typed.mutate(_superseded=older)
            rules.insert(len(rules) - 1, ("_superseded", "superseded", v,
                                          f"a later row (by {v}) with this {keyname} is already loaded"))
        if guard:
            typed = typed.mutate(_collision=found & typed.source_system.notnull() & typed._k_system.notnull()
                                 & (typed.source_system != typed._k_system))
            rules.insert(len(rules) - 1, ("_collision", "id_collision", "customer_id",
                                          "another source system's record holds this customer_id; give one of "
                                          "the sources an id_prefix (e.g. id_prefix = \"web-\")"))
        typed = typed.mutate(_change=change).drop("_k_found", *[c for c in typed.columns
                                                               if c.startswith(("_k_", "_s_"))])
        change = typed._change

    rule = first_broken(rules)

    def lookup(i: int) -> ir.StringValue:
        return rule.cases(*[(j, r[i]) for j, r in enumerate(rules)], else_=ibis.null().cast("string"))

    return typed.select(*keep, LINE, REC, _reason=lookup(1), _column=lookup(2), _detail=lookup(3),
                        _change=ibis.ifelse(rule.isnull(), change, ibis.null().cast("string")))


def provided_columns(source: SourceSettings, canon: Table, mapping: dict[str, str | None]) -> list[str]:
    """The columns whose values come from ``source`` (or from crmine's own rules for its rows).

    The others are null in its rows; a reload neither compares nor overwrites them, so that two
    sources that fill different columns of one table do not erase each other's values.
    """
    made = {"order_id", "line_no", "is_return", "non_product"} if canon.name == "transactions" else set()
    if source.source_system:
        made.add("source_system")
    names = [c for c in canon.column_names if mapping.get(c) is not None or c in source.derive or c in made]
    return [*names, *[n for n in source.derive if n not in canon.column_names]]

