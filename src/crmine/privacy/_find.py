"""Find a person: every unified id, source record and e-mail address crmine holds for them.

Starting from an e-mail address (compared as identity resolution compares it: every record with
that address) or an id (a unified id or a source record id), the search follows identity
resolution's links until nothing new is found: a record belongs to its unified customer
(``customer_lineage`` and its history), a unified customer to all its records. Their e-mail
addresses are those of their records that no other person's record holds: an address shared with
someone identity resolution keeps apart (a family's) stays with them. Customer records kept only in
``quarantine`` with one of their addresses are theirs too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import ibis
import pandas as pd

from crmine.errors import CustomerNotFoundError
from crmine.privacy._secret import standard_email
from crmine.settings import Settings
from crmine.warehouse import Warehouse

__all__ = ["CustomerNotFoundError", "Person", "find_person", "quarantined_records"]

LINEAGE_TABLES = ("customer_lineage", "customer_lineage_history")


@dataclass(frozen=True)
class Person:
    """What identifies one person (or the few people a request names) in the warehouse.

    ``records`` maps each source record id to its source system (None when unknown); ``emails``
    are their standardised addresses that nobody else's record holds; ``raw_emails`` those as
    stored, lower case.
    """

    unified_ids: frozenset[str]
    records: dict[str, str | None]
    emails: frozenset[str]
    raw_emails: frozenset[str]

    @property
    def ids(self) -> frozenset[str]:
        """Every id that names them: unified ids and source record ids."""
        return self.unified_ids | frozenset(self.records)


def standardised(wh: Warehouse, values: Iterable[str]) -> dict[str, str | None]:
    """Each raw e-mail value -> its standardised form, computed by the warehouse."""
    values = sorted({v for v in values if isinstance(v, str)})
    if not values:
        return {}
    t = wh.frame(pd.DataFrame({"raw": values}))
    out = wh.execute(t.select("raw", std=standard_email(t.raw)), what="standardise e-mail addresses")
    return {r: (s if isinstance(s, str) else None) for r, s in zip(out.raw, out["std"], strict=True)}


def quarantined_records(wh: Warehouse, settings: Settings) -> pd.DataFrame:
    """Quarantined rows as (load_id, line, table_name, source, values: dict or None, text), where
    ``values`` maps canonical column names to raw values for JSON records (None for raw lines)."""
    if not wh.has_table("quarantine"):
        return pd.DataFrame(columns=["load_id", "line", "table_name", "source", "values", "text"])
    q = wh.table("quarantine")
    rows = wh.execute(q.select("load_id", "line", "table_name", "source", "record"), what="read quarantine")
    raw_to_canon: dict[str, dict[str, str]] = {}
    prefixes: dict[str, str] = {}
    for src in settings.sources:
        from crmine.schema import TABLES

        canon = TABLES.get(src.table)
        cols = canon.column_names if canon else ()
        raw_to_canon[src.name] = {src.raw_name(c): c for c in cols}
        prefixes[src.name] = src.id_prefix or ""
    values = []
    for source, text in zip(rows.source, rows.record, strict=True):
        parsed = None
        if isinstance(text, str) and text.startswith("{"):
            try:
                obj = json.loads(text)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                names = raw_to_canon.get(source, {})
                parsed = {names.get(k, k): v for k, v in obj.items()}
                cid = parsed.get("customer_id")
                if isinstance(cid, str) and prefixes.get(source):  # the id as the warehouse holds it
                    parsed["customer_id"] = prefixes[source] + cid.strip()
        values.append(parsed)
    rows = rows.rename(columns={"record": "text"})
    rows["values"] = values
    return rows


def find_person(wh: Warehouse, settings: Settings, *, email: str | None = None,
                customer: str | None = None) -> Person:
    """The person named by ``email`` or ``customer``; CustomerNotFoundError when there is none."""
    if (email is None) == (customer is None):
        from crmine.errors import SettingsError

        raise SettingsError("Give exactly one of email or customer (--email ADDRESS or --customer ID).")
    people = _people(wh, settings)  # customer_id, source_system, email (raw), std, quarantined
    lineage = _lineage(wh)
    unified: set[str] = set()
    records: set[str] = set()
    if email is not None:
        wanted = standardised(wh, [email]).get(email)
        if wanted is None:
            raise CustomerNotFoundError(
                "The e-mail address given is not a valid address (it needs one @ with text on both sides); "
                "no customer was searched for and nothing was changed.")
        records |= set(people.customer_id[people["std"] == wanted])
    else:
        customer = customer.strip()
        if customer in set(lineage.unified_id):
            unified.add(customer)
        elif customer in set(people.customer_id) or customer in set(lineage.customer_id):
            records.add(customer)
    while True:  # identity resolution's links only: a shared address does not make two people one
        size = (len(unified), len(records))
        unified |= set(lineage.unified_id[lineage.customer_id.isin(records)])
        records |= set(lineage.customer_id[lineage.unified_id.isin(unified)])
        if (len(unified), len(records)) == size:
            break
    if not records and not unified:
        what = "e-mail address" if email is not None else "id (unified or source record id)"
        raise CustomerNotFoundError(
            f"No customer found for the {what} given: none of customers, its history, customer_lineage or "
            "quarantined customer records holds it (e-mail addresses are compared ignoring case and spaces). "
            "Nothing was changed. Check the value, or search with `crmine query`.")
    # Their addresses, except one another person still holds (a family's shared address): that one
    # stays, is not suppressed, and does not make that person's rows theirs.
    theirs = people.customer_id.isin(records)
    emails = {e for e in people["std"][theirs] if isinstance(e, str)}
    emails -= set(people["std"][~theirs & ~people.quarantined])
    # Customer records kept only in quarantine, with one of their addresses, are theirs too.
    records |= set(people.customer_id[people.quarantined & people["std"].isin(emails)])
    mine = people[people.customer_id.isin(records)]
    systems: dict[str, str | None] = {}
    for cid, system in zip(mine.customer_id, mine.source_system, strict=True):
        if systems.get(cid) is None:
            systems[cid] = system if isinstance(system, str) else None
    for cid in records:
        systems.setdefault(cid, None)
    raw = {str(e).strip().lower() for e, std in zip(mine.email, mine["std"], strict=True) if std in emails}
    return Person(frozenset(unified), systems, frozenset(emails), frozenset(raw))


def _people(wh: Warehouse, settings: Settings) -> pd.DataFrame:
    """Every customer record crmine holds: current, past versions, and quarantined ones."""
    parts = []
    for name in ("customers", "customers_history"):
        if wh.has_table(name):
            t = wh.table(name)
            cols = t.columns
            email = t.email.cast("string") if "email" in cols else ibis.null("string")
            system = t.source_system.cast("string") if "source_system" in cols else ibis.null("string")
            parts.append(t.select(customer_id=t.customer_id.cast("string"), source_system=system, email=email,
                                  std=standard_email(email), quarantined=ibis.literal(False)))
    frames = [wh.execute(p, what="read customer records") for p in parts]
    q = quarantined_records(wh, settings)
    rows = [(v.get("customer_id"), None, v.get("email")) for t, v in zip(q.table_name, q["values"], strict=True)
            if t == "customers" and v is not None and isinstance(v.get("customer_id"), str)]
    if rows:
        extra = pd.DataFrame(rows, columns=["customer_id", "source_system", "email"])
        extra["customer_id"] = extra.customer_id.str.strip()
        std = standardised(wh, extra.email.dropna())
        extra["std"] = extra.email.map(std)
        extra["quarantined"] = True
        frames.append(extra)
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["customer_id", "source_system", "email", "std", "quarantined"])
    out = pd.concat(frames, ignore_index=True)
    out["quarantined"] = out.quarantined.astype(bool)
    return out


def _lineage(wh: Warehouse) -> pd.DataFrame:
    parts = []
    for name in LINEAGE_TABLES:
        if wh.has_table(name):
            t = wh.table(name)
            parts.append(wh.execute(t.select(customer_id=t.customer_id.cast("string"),
                                             unified_id=t.unified_id.cast("string")), what=f"read {name}"))
    if not parts:
        return pd.DataFrame(columns=["customer_id", "unified_id"])
    return pd.concat(parts, ignore_index=True).drop_duplicates()
