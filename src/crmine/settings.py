"""Workspace settings: frozen dataclasses read from ``crmine.toml``.

Every problem in a settings file is collected first and reported in one :class:`SettingsError`,
each line naming the key, the rule and what to do, so a user fixes the file in one pass.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from crmine.errors import SettingsError
from crmine.schema import TABLES

__all__ = ["FORMATS", "IdentitySettings", "Settings", "SourceSettings"]

FORMATS = ("csv", "parquet", "jsonl", "xlsx", "sql")
REFERENCES = ("infer", "strict")
FUTURE_TOLERANCE_DAYS = 1.0
# Columns the staging table adds to a source's own; a raw name may not be one of them.
RESERVED_RAW_NAMES = ("_line", "_rec")
_EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet", ".pq": "parquet",
               ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".xlsx": "xlsx", ".xlsm": "xlsx"}


@dataclass(frozen=True)
class SourceSettings:
    """One source: a file or a SQL table whose rows load into one canonical table.

    ``columns`` maps canonical names to raw names (only those that differ); ``formats`` gives a
    strptime format per timestamp column; ``derive`` computes columns by expression over the
    canonical columns (e.g. ``amount = "quantity * unit_price - discount"``). ``return_prefix``
    marks returns by their order id (``"C"`` for ``C536379``); ``non_product`` lists product ids
    that are not goods (fees, postage), beside those crmine recognises itself.
    """

    name: str
    table: str
    format: str
    path: str | None = None
    url: str | None = None
    sql_table: str | None = None
    source_system: str | None = None
    # Put before every customer_id of the source, so that two systems' overlapping raw ids stay
    # two customers (set the same prefix on the sources whose rows refer to those customers).
    id_prefix: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    columns: Mapping[str, str] = field(default_factory=dict)
    formats: Mapping[str, str] = field(default_factory=dict)
    derive: Mapping[str, str] = field(default_factory=dict)
    sheet: str | None = None
    return_prefix: str | None = None
    non_product: tuple[str, ...] = ()
    # How a reload changes the table: rows are matched on ``key`` (the canonical key when empty); a
    # matched row that differs updates the stored one unless ``version`` says it is older; "snapshot"
    # sources hold every row, so stored rows of this source missing from the file are removed.
    key: tuple[str, ...] = ()
    version: str | None = None
    mode: str = "incremental"

    @property
    def row_key(self) -> tuple[str, ...]:
        """The columns that identify a row of this source."""
        return self.key or TABLES[self.table].key

    def raw_name(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)

    def location(self) -> str:
        """Where the rows come from, for messages (never contains credentials)."""
        if self.format == "sql":
            return f"{_strip_password(self.url or '')} table {self.sql_table}"
        return str(self.path)


@dataclass(frozen=True)
class IdentitySettings:
    """How duplicate customer records are resolved."""

    enabled: bool = True
    threshold: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class Settings:
    """Everything in ``crmine.toml``."""

    engine: str = "duckdb"
    # "infer": customers and products that only transactions mention are created from them, when no
    # source loads that master table; "strict": such lines are quarantined as unknown_reference.
    references: str = "infer"
    # Source files outside the workspace folder are read only when this is true: a settings file
    # copied from elsewhere should not make crmine read arbitrary files on the machine.
    outside_paths: bool = False
    sources: tuple[SourceSettings, ...] = ()
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    # Sections that later analyses read; kept verbatim and validated by those analyses.
    analysis: Mapping[str, Any] = field(default_factory=dict)
    # [ingest]: an event time later than the load time by more than this is out_of_range (a clock
    # or typing error, such as 2099 for 2019), and never becomes the warehouse's 'today'.
    future_tolerance_days: float = FUTURE_TOLERANCE_DAYS
    # [privacy.retention]: table -> days its rows are kept (by their ts); applied by `crmine privacy retain`.
    retention: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_path(cls, path: str | Path) -> Settings:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SettingsError(f"No settings file at {p}. Create one with `crmine init {p.parent}`.") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise SettingsError(f"{p} is not valid TOML: {e}. Fix the line it names.") from None
        return cls.from_dict(data, where=p.name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "settings") -> Settings:
        problems: list[str] = []
        _check_keys(data, {"workspace", "sources", "identity", "analysis", "ingest", "privacy"}, "", problems)
        ws = _section(data, "workspace", problems)
        _check_keys(ws, {"engine", "name", "references", "outside_paths"}, "workspace.", problems)
        engine = _typed(ws, "engine", str, "workspace.", problems, default="duckdb")
        if engine not in ("duckdb", "spark"):
            problems.append(f"workspace.engine: must be 'duckdb' or 'spark', got {engine!r}.")
        references = _typed(ws, "references", str, "workspace.", problems, default="infer")
        outside_paths = _typed(ws, "outside_paths", bool, "workspace.", problems, default=False)
        if references not in REFERENCES:
            problems.append(f"workspace.references: must be 'infer' or 'strict', got {references!r}.")

        sources = []
        for name, raw in _section(data, "sources", problems).items():
            src = _source(name, raw, problems)
            if src is not None:
                sources.append(src)

        ident = _section(data, "identity", problems)
        _check_keys(ident, {"enabled", "threshold", "seed"}, "identity.", problems)
        identity = IdentitySettings(
            enabled=_typed(ident, "enabled", bool, "identity.", problems, default=True),
            threshold=float(_typed(ident, "threshold", (int, float), "identity.", problems, default=0.95)),
            seed=_typed(ident, "seed", int, "identity.", problems, default=0),
        )
        if not 0 < identity.threshold < 1:
            problems.append("identity.threshold: must be between 0 and 1 (a match probability).")
        tolerance = _future_tolerance(_section(data, "ingest", problems), problems)
        retention = _retention(_section(data, "privacy", problems), problems)

        if problems:
            lines = "\n".join(f"  - {p}" for p in problems)
            raise SettingsError(f"{where} has {len(problems)} problem(s):\n{lines}")
        return cls(
            engine=engine,
            references=references,
            outside_paths=outside_paths,
            sources=tuple(sources),
            identity=identity,
            analysis=MappingProxyType(dict(_section(data, "analysis", []))),
            future_tolerance_days=tolerance,
            retention=MappingProxyType(retention),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"workspace": {"engine": self.engine, "references": self.references,
                                             "outside_paths": self.outside_paths}, "sources": {}}
        for s in self.sources:
            d = {f.name: getattr(s, f.name) for f in fields(s) if f.name != "name"}
            d = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in d.items()}
            out["sources"][s.name] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()
                                      if v not in (None, {}, ())}
        out["identity"] = asdict(self.identity)
        out["ingest"] = {"future_tolerance_days": self.future_tolerance_days}
        out["analysis"] = dict(self.analysis)
        if self.retention:
            out["privacy"] = {"retention": {t: f"{d:g}d" for t, d in self.retention.items()}}
        return out

    def source(self, name: str) -> SourceSettings:
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources) or "(none)"
        raise SettingsError(f"No source called {name!r} in crmine.toml. Sources: {known}.")

    def source_path(self, source: SourceSettings, root: str | Path) -> Path:
        """The file ``source`` reads, resolved against the workspace folder ``root``.

        Raises SettingsError when the file lies outside the workspace and ``outside_paths`` is not set.
        """
        base = Path(root).resolve()
        full = (base / (source.path or "")).resolve()
        if not self.outside_paths and not full.is_relative_to(base):
            raise SettingsError(
                f"sources.{source.name}.path: {source.path} is outside the workspace {base}. Move or link the "
                "file into the workspace, or allow it with `outside_paths = true` under [workspace] in crmine.toml.")
        return full

    def inferred_tables(self) -> frozenset[str]:
        """Master tables whose rows are inferred from the tables that refer to them.

        With ``references = "infer"``, that is every referenced table no source loads.
        """
        if self.references != "infer":
            return frozenset()
        declared = {s.table for s in self.sources}
        return frozenset(t for t in ("customers", "products") if t not in declared)


_SOURCE_KEYS = {"table", "path", "format", "url", "sql_table", "source_system", "id_prefix", "delimiter",
                "encoding", "columns", "formats", "derive", "sheet", "return_prefix", "non_product",
                "key", "version", "mode"}
MODES = ("incremental", "snapshot")


# Source names become parts of staging-table names and appear in messages: keep them plain.
_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _source(name: str, raw: Any, problems: list[str]) -> SourceSettings | None:
    where = f"sources.{name}."
    if not _SOURCE_NAME.fullmatch(name):
        problems.append(f"sources: the source name {name[:40]!r} is not allowed; use 1-64 letters, digits, "
                        "'_' or '-', starting with a letter or digit (e.g. [sources.web_orders]).")
        return None
    if not isinstance(raw, Mapping):
        problems.append(f"sources.{name}: must be a table ([sources.{name}]), got {type(raw).__name__}.")
        return None
    _check_keys(raw, _SOURCE_KEYS, where, problems)
    table = _typed(raw, "table", str, where, problems)
    if table is None:
        problems.append(f"{where}table: required; one of {', '.join(TABLES)}.")
        return None
    if table not in TABLES:
        problems.append(f"{where}table: {table!r} is not a canonical table{_did_you_mean(table, TABLES)}.")
        return None
    path = _typed(raw, "path", str, where, problems)
    url = _typed(raw, "url", str, where, problems)
    fmt = _typed(raw, "format", str, where, problems)
    if fmt is None:
        fmt = "sql" if url else _EXTENSIONS.get(Path(path or "").suffix.lower())
    if fmt not in FORMATS:
        problems.append(f"{where}format: cannot tell the format of {path!r}; set format to one of {', '.join(FORMATS)}.")
        return None
    if fmt == "sql" and not (url and raw.get("sql_table")):
        problems.append(f"{where}: a SQL source needs url (e.g. 'postgres://user@host:5432/db') and sql_table.")
    if fmt != "sql" and not path:
        problems.append(f"{where}path: required for a {fmt} source (relative to the workspace).")

    canon = TABLES[table]
    columns = _mapping(raw, "columns", where, problems)
    derive = _mapping(raw, "derive", where, problems)
    formats = _mapping(raw, "formats", where, problems)
    for c in columns:
        if c not in canon.column_names:
            problems.append(f"{where}columns.{c}: not a column of {table}{_did_you_mean(c, canon.column_names)}. "
                            "Keys are canonical names, values the raw names in the source.")
    for c, raw_name in columns.items():
        if raw_name in RESERVED_RAW_NAMES:
            problems.append(f"{where}columns.{c}: {raw_name!r} is a name crmine reserves for its own bookkeeping "
                            f"({', '.join(RESERVED_RAW_NAMES)}); rename that column in the source.")
    for derived in derive:
        if derived.startswith("_"):
            problems.append(f"{where}derive.{derived}: names starting with '_' are reserved for crmine's internal "
                            "columns; name the derived column without the leading '_'.")
    for c in formats:
        if c not in canon.column_names and c not in derive:
            problems.append(f"{where}formats.{c}: not a column of {table}{_did_you_mean(c, canon.column_names)}.")
        elif c in canon.column_names and canon.column(c).dtype != "timestamp":
            problems.append(f"{where}formats.{c}: formats apply to timestamp columns; {c} is {canon.column(c).dtype}.")
    delimiter = _typed(raw, "delimiter", str, where, problems, default=",")
    if len(delimiter) != 1:
        problems.append(f"{where}delimiter: must be one character, got {len(delimiter)}.")
    non_product = raw.get("non_product", [])
    if not (isinstance(non_product, list) and all(isinstance(v, str) for v in non_product)):
        problems.append(f"{where}non_product: must be a list of product ids, e.g. [\"POST\", \"M\"].")
        non_product = []
    return_prefix = _typed(raw, "return_prefix", str, where, problems)
    if return_prefix == "":
        problems.append(f"{where}return_prefix: must not be empty; remove the key instead.")
        return_prefix = None
    if (return_prefix or non_product) and table != "transactions":
        problems.append(f"{where}: return_prefix and non_product apply to transactions sources only.")
    if raw.get("id_prefix") is not None and "customer_id" not in canon.column_names:
        problems.append(f"{where}: id_prefix applies to sources of tables with a customer_id column; "
                        f"{table} has none.")
    key, version, mode = _change_rules(raw, canon, derive, where, problems)
    return SourceSettings(
        name=name,
        table=table,
        format=fmt,
        path=path,
        url=url,
        sql_table=_typed(raw, "sql_table", str, where, problems),
        source_system=_typed(raw, "source_system", str, where, problems),
        id_prefix=_typed(raw, "id_prefix", str, where, problems),
        delimiter=delimiter,
        encoding=_typed(raw, "encoding", str, where, problems, default="utf-8"),
        columns=MappingProxyType(columns),
        formats=MappingProxyType(formats),
        derive=MappingProxyType(derive),
        sheet=_typed(raw, "sheet", str, where, problems),
        return_prefix=return_prefix,
        non_product=tuple(non_product),
        key=key,
        version=version,
        mode=mode,
    )


def _change_rules(raw: Mapping[str, Any], canon, derive: Mapping[str, str], where: str,
                  problems: list[str]) -> tuple[tuple[str, ...], str | None, str]:
    """A source's ``key``, ``version`` and ``mode``: how a reload changes its table."""
    key = raw.get("key", [])
    if isinstance(key, str):
        key = [key]
    if not (isinstance(key, list) and all(isinstance(k, str) for k in key)):
        problems.append(f'{where}key: must be a list of column names, e.g. ["customer_id"].')
        key = []
    for k in key:
        if k not in canon.column_names and k not in derive:
            problems.append(f"{where}key: {k!r} is not a column of {canon.name}{_did_you_mean(k, canon.column_names)}.")
    version = _typed(raw, "version", str, where, problems)
    if version is not None and version not in canon.column_names and version not in derive:
        problems.append(f"{where}version: {version!r} is not a column of {canon.name}"
                        f"{_did_you_mean(version, canon.column_names)}; name the column whose larger value is "
                        "the later row (e.g. \"ts\").")
        version = None
    mode = _typed(raw, "mode", str, where, problems, default="incremental")
    if mode not in MODES:
        problems.append(f"{where}mode: must be one of {', '.join(MODES)} (snapshot: the file holds every row, so "
                        f"rows missing from it are removed), got {mode!r}.")
        mode = "incremental"
    return tuple(key), version, mode


def _future_tolerance(ingest: Mapping[str, Any], problems: list[str]) -> float:
    _check_keys(ingest, {"future_tolerance_days"}, "ingest.", problems)
    days = _typed(ingest, "future_tolerance_days", (int, float), "ingest.", problems, default=FUTURE_TOLERANCE_DAYS)
    if not 0 <= days <= 3660:
        problems.append("ingest.future_tolerance_days: must be between 0 and 3660 (days after the load time "
                        "that an event time may lie, e.g. 1 for clocks a day apart).")
        return FUTURE_TOLERANCE_DAYS
    return float(days)


_PERIOD = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dwy])\s*$")


def _retention(privacy: Mapping[str, Any], problems: list[str]) -> dict[str, float]:
    """``[privacy.retention]``: table = "730d" (days, "w" weeks, "y" years of 365 days) -> days."""
    _check_keys(privacy, {"retention"}, "privacy.", problems)
    out = {}
    for table, text in _section(privacy, "retention", problems).items():
        m = _PERIOD.match(text) if isinstance(text, str) else None
        if m is None or float(m.group(1)) <= 0:
            problems.append(f"privacy.retention.{table}: must be a period such as \"730d\", \"104w\" or \"2y\".")
            continue
        out[table] = float(m.group(1)) * {"d": 1, "w": 7, "y": 365}[m.group(2)]
    return out


def _section(data: Mapping[str, Any], key: str, problems: list[str]) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        problems.append(f"{key}: must be a table ([{key}]), got {type(value).__name__}.")
        return {}
    return value


def _mapping(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> dict[str, str]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        problems.append(f"{where}{key}: must be a table of name = \"text\" pairs.")
        return {}
    out = {}
    for k, v in value.items():
        if isinstance(v, str):
            out[k] = v
        else:
            problems.append(f"{where}{key}.{k}: must be a string, got {type(v).__name__}.")
    return out


def _typed(raw: Mapping[str, Any], key: str, types, where: str, problems: list[str], default=None):
    if key not in raw:
        return default
    value = raw[key]
    # bool is an int in Python; do not let `threshold = true` pass as a number.
    if isinstance(value, bool) and types is not bool and bool not in (types if isinstance(types, tuple) else (types,)):
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        problems.append(f"{where}{key}: must be {names}, got {type(value).__name__}.")
        return default
    return value


def _check_keys(raw: Mapping[str, Any], allowed: set[str], where: str, problems: list[str]) -> None:
    for k in raw:
        if k not in allowed:
            problems.append(f"{where}{k}: unknown key{_did_you_mean(k, allowed)}. Allowed: {', '.join(sorted(allowed))}.")


def _did_you_mean(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# Parameter names that carry a secret in URLs and connection strings (`?password=`, `pwd=`).
_SECRET_PARAMS = re.compile(r"(?i)\b(password|passwd|pwd|pass|secret|token|api_key|apikey)=([^&;\s]*)")


def _strip_password(url: str) -> str:
    """``url`` with any password removed, whatever form it takes.

    ``scheme://user:secret@host``, ``user:secret@host/db`` (no scheme) and ``?password=secret``
    (or ``pwd=``, ``token=``...) all come out without the secret, so a message can name the database.
    """
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}=***", url)
    scheme, sep, rest = text.rpartition("://")
    if "@" in rest:
        creds, host = rest.rsplit("@", 1)
        rest = f"{creds.split(':', 1)[0]}@{host}"
    return f"{scheme}{sep}{rest}"
