"""Which canonical table a file holds, and which raw column feeds each canonical column.

For every table, each (canonical, raw) pair is scored by name and content, the pairs are assigned
greedily (best first, each raw column and each canonical column once), and the table's evidence
is the weighted sum of what it got, adjusted for what a table of that kind must have (a
transactions file has a time; a master has one row per key) and for the file's name. The best
table's confidence grows with its evidence and with its lead over the next.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from crmine.io._infer_names import KINDS, VETO, match_name, words
from crmine.io._infer_values import Profile
from crmine.schema import TABLES

__all__ = ["Candidate", "TableFit", "rank_tables"]

# Extra canonical columns the inspector may map before the schema lists them (the lead adds them).
EXTRA_COLUMNS = {"transactions": ("product_name",)}

# How much a matched column says that the file is this table (default 0.5).
_EVIDENCE: dict[str, dict[str, float]] = {
    "customers": {"customer_id": 1.5, "email": 2, "phone": 2, "name": 1.5, "birth_date": 2, "gender": 1.5,
                  "income": 1.5, "signup_date": 1.5, "address": 1.5, "postcode": 1, "city": 1, "region": 1,
                  "country": 0.7, "occupation": 1, "education": 1},
    "products": {"product_id": 2, "name": 1, "category": 1.5, "subcategory": 1.5, "brand": 1.5,
                 "list_price": 1, "unit_cost": 1.5},
    "transactions": {"order_id": 2, "ts": 2, "amount": 2, "quantity": 1.5, "unit_price": 1.5, "product_id": 1,
                     "customer_id": 1, "line_no": 1, "discount": 1, "store_id": 1, "promotion_id": 1},
    "promotions": {"promotion_id": 2.5, "discount_pct": 1.5, "start": 1, "end": 1},
    "campaigns": {"campaign_id": 2.5, "cost_per_contact": 2, "margin_per_response": 2, "offer": 1.5,
                  "start": 1, "end": 1},
    "campaign_contacts": {"campaign_id": 2, "customer_id": 1, "group": 2.5},
    "campaign_responses": {"campaign_id": 2, "customer_id": 1, "response_type": 2.5, "value": 1},
    "interactions": {"interaction_id": 2, "customer_id": 1, "ts": 1, "agent_id": 2, "duration_s": 2,
                     "resolved": 2, "satisfaction": 2},
    "feedback": {"feedback_id": 2, "text": 3, "customer_id": 1},
    "consents": {"purpose": 2.5, "granted": 2.5, "customer_id": 1},
    "employees": {"agent_id": 2.5, "team": 2, "hired": 2},
}
# What a table of this kind must have: (any of these columns, factor applied when none is found).
_ESSENTIAL: dict[str, tuple[tuple[tuple[str, ...], float], ...]] = {
    "customers": ((("customer_id",), 0.3),
                  (tuple(c for c in TABLES["customers"].column_names if c != "customer_id"), 0.4)),
    "products": ((("product_id",), 0.3),),
    "transactions": ((("ts",), 0.5), (("amount", "unit_price", "quantity"), 0.5), (("customer_id", "order_id"), 0.5)),
    "promotions": ((("promotion_id",), 0.3),),
    "campaigns": ((("campaign_id",), 0.3),),
    "campaign_contacts": ((("campaign_id",), 0.3), (("customer_id",), 0.3), (("group",), 0.6)),
    "campaign_responses": ((("campaign_id",), 0.3), (("customer_id",), 0.3), (("response_type",), 0.5)),
    "interactions": ((("customer_id",), 0.5), (("ts",), 0.5),
                     (("interaction_id", "agent_id", "duration_s", "resolved", "satisfaction"), 0.3)),
    "feedback": ((("text",), 0.3),),
    "consents": ((("granted",), 0.4), (("customer_id",), 0.4)),
    "employees": ((("agent_id",), 0.3),),
}
# Tables with one row per key: a key that repeats says the file is not this table.
_MASTERS = ("customers", "products", "promotions", "campaigns", "interactions", "feedback", "employees")
_FILE_WORDS: dict[str, frozenset[str]] = {t: frozenset(ws) for t, ws in {
    "transactions": ("order", "orders", "transaction", "transactions", "sales", "sale", "invoice", "invoices",
                     "retail", "purchase", "purchases", "basket", "baskets", "receipt", "receipts", "pos", "txn"),
    "customers": ("customer", "customers", "client", "clients", "member", "members", "crm", "churn",
                  "people", "users", "accounts", "households", "demographic", "demographics"),
    "products": ("product", "products", "catalog", "catalogue", "sku", "skus", "articles", "inventory"),
    "promotions": ("promotion", "promotions", "promo", "promos", "coupon", "coupons"),
    "campaigns": ("campaign", "campaigns"),
    "campaign_contacts": ("contacts", "contacted", "mailing", "mailings", "sends", "audience"),
    "campaign_responses": ("responses", "response", "conversions", "clicks", "opens"),
    "interactions": ("interactions", "interaction", "tickets", "ticket", "calls", "cases", "service", "support"),
    "feedback": ("feedback", "reviews", "review", "survey", "surveys", "comments", "nps"),
    "consents": ("consent", "consents", "optin", "optins", "gdpr", "permissions", "preferences"),
    "employees": ("employees", "employee", "agents", "staff"),
}.items()}
_CONTENT_ONLY_TS = 0.5
_TS_VETO = VETO["ts"]
_MIN_SCORE = 0.2  # a pair scoring less is not a candidate at all
_CLOSE = 0.85  # an alternative scoring this share of the chosen one makes the guess doubtful


@dataclass(frozen=True)
class Candidate:
    """A raw column's fit for one canonical column."""

    canonical: str
    raw: str
    score: float
    reason: str
    alternatives: tuple[str, ...] = ()


@dataclass
class TableFit:
    """How well a file fits one table: the columns it gets, its evidence and confidence."""

    table: str
    columns: dict[str, Candidate] = field(default_factory=dict)
    evidence: float = 0.0
    confidence: float = 0.0
    reasons: list[str] = field(default_factory=list)


def canonical_columns(table: str) -> tuple[str, ...]:
    return TABLES[table].column_names + tuple(c for c in EXTRA_COLUMNS.get(table, ())
                                              if c not in TABLES[table].column_names)


def rank_tables(profiles: dict[str, Profile], file_stem: str) -> list[TableFit]:
    """Every table's fit to the file, best first, each with its confidence."""
    fits = [_fit(table, profiles, file_stem) for table in TABLES]
    fits.sort(key=lambda f: -f.evidence)
    for i, fit in enumerate(fits):
        # The best is measured against the second; every other against the best.
        rival = fits[0].evidence if i else (fits[1].evidence if len(fits) > 1 else 0.0)
        fit.confidence = round(_confidence(fit.evidence, rival), 2)
    return fits


def _confidence(evidence: float, rival: float) -> float:
    if evidence <= 0:
        return 0.0
    absolute = 1 - math.exp(-evidence / 3)
    margin = max(0.0, 1 - rival / evidence)
    return absolute * (0.5 + 0.5 * margin)


def _fit(table: str, profiles: dict[str, Profile], file_stem: str) -> TableFit:
    fit = TableFit(table, _assign(table, profiles))
    weights = _EVIDENCE.get(table, {})
    fit.evidence = sum(weights.get(c, 0.5) * cand.score for c, cand in fit.columns.items())
    for needed, factor in _ESSENTIAL.get(table, ()):
        if not any(c in fit.columns and fit.columns[c].score >= 0.5 for c in needed):
            fit.evidence *= factor
    _key_shape(fit, profiles)
    if set(words(file_stem)) & _FILE_WORDS.get(table, frozenset()):
        fit.evidence += 1.0
        fit.reasons.append("the file name suggests it")
    return fit


def _key_shape(fit: TableFit, profiles: dict[str, Profile]) -> None:
    """A master table has one row per key; transactions repeat their customers."""
    key = TABLES[fit.table].key[0]
    cand = fit.columns.get(key)
    if fit.table in _MASTERS and cand is not None:
        prof = profiles[cand.raw]
        if prof.unique and prof.filled >= 2:
            fit.evidence += 1.0
            fit.reasons.append(f"every {key} in the sample is distinct, one row per key")
        elif prof.distinct_ratio < 0.7:
            fit.evidence *= 0.5
            fit.reasons.append(f"{key} values repeat, so rows are not one per key")
    customer = fit.columns.get("customer_id")
    if fit.table == "transactions" and customer is not None and profiles[customer.raw].distinct_ratio < 0.7:
        fit.evidence += 0.5
        fit.reasons.append("customers recur on several lines")


def _assign(table: str, profiles: dict[str, Profile]) -> dict[str, Candidate]:
    """Each canonical column's best raw column, greedily: best pair first, each side used once."""
    pairs: list[Candidate] = []
    for canonical in canonical_columns(table):
        for prof in profiles.values():
            cand = score_pair(table, canonical, prof)
            if cand is not None and cand.score >= _MIN_SCORE:
                pairs.append(cand)
    pairs = _sole_timestamp(pairs, profiles)
    order = {c: i for i, c in enumerate(canonical_columns(table))}
    pairs.sort(key=lambda p: (-p.score, order[p.canonical]))
    chosen: dict[str, Candidate] = {}
    used: set[str] = set()
    for p in pairs:
        if p.canonical not in chosen and p.raw not in used:
            chosen[p.canonical] = p
            used.add(p.raw)
    # A rival is a raw column left without a place of its own that could also hold the column.
    return {c: _with_rivals(p, [q for q in pairs if q.canonical == c and q.raw not in used]) for c, p in chosen.items()}


def _sole_timestamp(pairs: list[Candidate], profiles: dict[str, Profile]) -> list[Candidate]:
    """A timestamp column found by content alone is likelier the time when it is the file's only one."""
    timestamps = [p for p in profiles.values() if p.timestamp is not None and p.timestamp.share >= 0.9]
    if len(timestamps) != 1:
        return pairs
    return [Candidate(p.canonical, p.raw, 0.62, p.reason + "; the only timestamp column")
            if p.canonical == "ts" and p.score == _CONTENT_ONLY_TS else p for p in pairs]


def _with_rivals(chosen: Candidate, rivals: list[Candidate]) -> Candidate:
    """The choice, with the raw columns that could also hold it; a close rival lowers the score."""
    close = [r for r in rivals if r.score >= max(0.3, 0.6 * chosen.score)]
    score = chosen.score
    if any(r.score >= _CLOSE * chosen.score for r in close):
        score *= 0.75
    return Candidate(chosen.canonical, chosen.raw, round(score, 2), chosen.reason, tuple(r.raw for r in close))


def score_pair(table: str, canonical: str, prof: Profile) -> Candidate | None:
    """How well the column ``prof`` fits ``canonical`` of ``table``, by name and content."""
    kind = KINDS.get(canonical, "text")
    content, content_reason = content_fit(kind, canonical, prof)
    name = match_name(prof.name, table, canonical)
    if name is None:
        return _by_content(canonical, kind, prof)
    score = name.score * (0.3 + 0.7 * content)
    reason = name.reason + (f"; {content_reason}" if content_reason else "")
    return Candidate(canonical, prof.name, round(score, 3), reason)


def _by_content(canonical: str, kind: str, prof: Profile) -> Candidate | None:
    """A column whose name says nothing, but whose content is unmistakable."""
    rules = {
        "email": ("email", 0.9, 0.7, "content: {:.0%} e-mail addresses"),
        "phone": ("phone", 0.9, 0.55, "content: {:.0%} phone numbers"),
        "free_text": ("long_text", 0.5, 0.55, "content: {:.0%} sentences of free text"),
    }
    if canonical == "ts" and prof.timestamp is not None and prof.timestamp.share >= 0.9:
        against = set(words(prof.name)) & _TS_VETO
        if against:
            return Candidate(canonical, prof.name, 0.3, f"name {prof.name!r} suggests another time "
                             f"({sorted(against)[0]!r}); {prof.timestamp.reason}")
        return Candidate(canonical, prof.name, _CONTENT_ONLY_TS, f"name {prof.name!r} says nothing; {prof.timestamp.reason}")
    if kind not in rules:
        return None
    share_key, at_least, weight, text = rules[kind]
    share = prof.share(share_key)
    if share < at_least:
        return None
    return Candidate(canonical, prof.name, round(weight * share, 3),
                     f"name {prof.name!r} says nothing; " + text.format(share))


def content_fit(kind: str, canonical: str, prof: Profile) -> tuple[float, str]:
    """How well the values fit a kind of content, in [0, 1], and the words of the reason."""
    s = prof.share
    if prof.filled == 0:
        return 0.5, "content: the sample holds no values"
    if kind == "id":
        return _id_fit(prof)
    if kind == "timestamp":
        # The format guess gives the layout and its reasons; the mapping needs only the share.
        ts = prof.timestamp
        return (ts.share, f"content: {ts.share:.0%} parse as timestamps") if ts else (
            0.0, "content: the values are not timestamps")
    if kind in ("money", "number", "quantity", "integer"):
        return _number_fit(kind, canonical, prof)
    if kind == "email":
        return s("email"), f"content: {s('email'):.0%} e-mail addresses"
    if kind == "phone":
        share = max(s("phone"), 0.7 * s("integer"))
        return share, f"content: {s('phone'):.0%} phone numbers"
    if kind == "boolean":
        share = 1.0 if prof.kind == "boolean" else s("boolean") * (1.0 if prof.distinct <= 2 else 0.5)
        return share, f"content: {prof.distinct} distinct values" + (", yes/no-like" if share >= 0.9 else "")
    text = max(0.0, 1 - 0.7 * max(s("number"), s("timestamp")))
    if kind == "category":
        return text * (1.0 if prof.distinct <= 100 else 0.7), f"content: {prof.distinct} distinct values"
    if kind == "free_text":
        return min(1.0, 0.4 + 1.2 * s("long_text")), f"content: {s('long_text'):.0%} sentences of free text"
    return text, ""


def _id_fit(prof: Profile) -> tuple[float, str]:
    s = prof.share
    fit = s("token")
    if s("timestamp") >= 0.8 or prof.unit_interval:
        fit = min(fit, 0.15)
    elif s("two_decimals") >= 0.5:
        fit = min(fit, 0.3)  # money, not codes
    if prof.kind == "integer":
        fit = 1.0
    return fit, f"content: {prof.distinct:,} distinct codes"


def _number_fit(kind: str, canonical: str, prof: Profile) -> tuple[float, str]:
    s = prof.share
    number = s("number")
    if s("decimal_comma") >= 0.5:
        return 0.5, "content: numbers with a decimal comma, which crmine does not read as numbers"
    if s("currency") >= 0.5:
        return 0.5, "content: numbers with a currency sign or thousands separators, which crmine does not read"
    if number < 0.5:
        return number, f"content: only {number:.0%} numbers"
    if kind == "money":
        if canonical == "discount" and prof.unit_interval:
            return 0.2, "content: every value lies between 0 and 1, a rate rather than money"
        decimals = s("two_decimals") / number
        reason = f"content: {number:.0%} numbers" + (f", {decimals:.0%} with one or two decimals" if decimals >= 0.2 else "")
        return number * (0.75 + 0.25 * min(1.0, decimals * 2)), reason
    if kind == "quantity":
        whole = s("integer") / number
        fit = number * (0.6 + 0.4 * whole) * (1.0 if prof.small_numbers else 0.6)
        return fit, f"content: {number:.0%} numbers" + (", small whole numbers" if prof.small_numbers else "")
    if kind == "integer":
        return s("integer"), f"content: {s('integer'):.0%} whole numbers"
    return number, f"content: {number:.0%} numbers"
