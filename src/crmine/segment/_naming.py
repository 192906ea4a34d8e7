"""Names in words for segments, from their standardised profile: "young online bargain hunters".

A segment is named by the features that set it apart most (its row of ``Segmenter.centers_``:
the segment mean against the overall mean, in standard deviations). Each feature in a direction
maps to a :class:`Term` from a vocabulary keyed on customer-table column names (those of
:func:`crmine.features.customer_table` and common aliases), and to ``"high <column>"`` /
``"low <column>"`` for columns the vocabulary does not know. The strongest term that has a noun
("bargain hunters", "regulars") heads the name; the others come before it as adjectives, in a
fixed order that reads naturally (value, activity, who they are, engagement, channel, category,
price behaviour): "high-spend long-standing regulars".
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

__all__ = ["MAX_TERMS", "MIN_Z", "Term", "segment_names", "term_for"]

# A trait weaker than this (in sd of the segment mean) is too faint to name a segment by.
MIN_Z = 0.3
MAX_TERMS = 3  # a longer name stops being a name
DEFAULT_NOUN = "customers"
AVERAGE_NAME = "typical customers"  # a segment with no trait as strong as MIN_Z

# Slots order the adjectives within a name.
VALUE, ACTIVITY, WHO, ENGAGEMENT, CHANNEL, CATEGORY, PRICE, OTHER = range(8)


@dataclass(frozen=True)
class Term:
    """A trait in words: an adjective, and optionally a noun that can head the name."""

    adjective: str
    slot: int
    noun: str | None = None


def _pair(high: Term | None, low: Term | None, *names: str) -> dict[str, tuple]:
    return dict.fromkeys(names, (high, low))


# Column name -> (term when the segment is above average, term when below); None: not worth
# naming a segment by (a low return rate is no trait a marketer targets).
VOCABULARY: dict[str, tuple[Term | None, Term | None]] = {
    **_pair(Term("older", WHO), Term("young", WHO), "age", "customer_age", "age_years"),
    **_pair(
        Term("affluent", WHO),
        Term("low-income", WHO),
        "income",
        "annual_income",
        "household_income",
        "salary",
    ),
    **_pair(
        Term("high-spend", VALUE),
        Term("low-spend", VALUE),
        "spend",
        "total_spend",
        "monetary",
        "monetary_value",
        "revenue",
        "total_revenue",
        "sales",
        "gross",
    ),
    **_pair(
        Term("high-value", VALUE),
        Term("low-value", VALUE),
        "clv",
        "ltv",
        "customer_value",
        "expected_value",
        "profit",
    ),
    **_pair(
        Term("big-basket", VALUE),
        Term("small-basket", VALUE),
        "avg_order_value",
        "average_order_value",
        "aov",
        "basket_value",
    ),
    **_pair(
        Term("frequent", ACTIVITY, "regulars"),
        Term("occasional", ACTIVITY, "occasional buyers"),
        "orders",
        "n_orders",
        "num_orders",
        "order_count",
        "purchases",
        "frequency",
        "transactions",
        "visits",
    ),
    **_pair(
        Term("lapsed", ACTIVITY),
        Term("recently active", ACTIVITY),
        "recency_days",
        "days_since_last_order",
        "days_since_last_purchase",
        "days_since_purchase",
    ),
    **_pair(
        Term("long-standing", ACTIVITY),
        Term("new", ACTIVITY, "newcomers"),
        "tenure_days",
        "tenure",
        "tenure_months",
        "membership_days",
    ),
    **_pair(Term("sporadic", ACTIVITY), Term("habitual", ACTIVITY), "ipt_mean_days"),
    **_pair(Term("erratic", ACTIVITY), Term("steady", ACTIVITY), "ipt_cv"),
    **_pair(Term("growing", ACTIVITY), Term("declining", ACTIVITY), "spend_trend"),
    **_pair(Term("recently big-spending", ACTIVITY), Term("quiet", ACTIVITY), "spend_recent"),
    **_pair(
        Term("deal-seeking", PRICE, "bargain hunters"),
        Term("full-price", PRICE, "full-price buyers"),
        "discount_rate",
        "discount_share",
        "promo_share",
        "promotion_rate",
    ),
    **_pair(
        Term("high-return", PRICE, "serial returners"),
        None,
        "return_rate",
        "returns",
        "return_share",
        "returned_share",
    ),
    **_pair(
        Term("often-contacted", ENGAGEMENT),
        Term("rarely contacted", ENGAGEMENT),
        "campaign_contacts",
    ),
    **_pair(
        Term("campaign-responsive", ENGAGEMENT, "responders"),
        Term("unresponsive", ENGAGEMENT),
        "campaign_responses",
        "response_rate",
    ),
    **_pair(Term("support-heavy", ENGAGEMENT), None, "service_contacts", "support_tickets"),
    **_pair(None, Term("poorly served", ENGAGEMENT), "resolution_rate"),
    **_pair(
        Term("satisfied", ENGAGEMENT),
        Term("dissatisfied", ENGAGEMENT),
        "mean_satisfaction",
        "satisfaction",
        "csat",
        "nps",
    ),
}

# The channel part of a share column (share_channel_web, online_share, ...) -> its adjective.
CHANNELS = {
    **dict.fromkeys(("web", "online", "ecommerce", "e_commerce", "internet", "website"), "online"),
    **dict.fromkeys(("app", "mobile", "mobile_app"), "app"),
    **dict.fromkeys(("store", "in_store", "instore", "retail", "shop", "branch"), "in-store"),
    **dict.fromkeys(("catalog", "catalogue", "mail", "mail_order"), "catalog"),
    **dict.fromkeys(("phone", "telephone", "call_center", "call_centre"), "phone"),
    **dict.fromkeys(("social", "social_media"), "social"),
}
# Below-average share of the online channel is a trait ("offline"); a low share of any other
# channel only says the customer buys elsewhere, which the other shares name better.
LOW_CHANNELS = {"online": "offline"}
# Category words that read better as a shopper's interest.
CATEGORIES = {"women": "womenswear", "men": "menswear", "kids": "kidswear", "home": "homeware"}
METHODS = {
    "subscription": Term("subscription", CHANNEL, "subscribers"),
    "self_service": Term("self-service", CHANNEL),
    "assisted": Term("staff-assisted", CHANNEL),
}
_SHARE = re.compile(r"^(?:share|pct|frac)_(.+)$|^(.+)_(?:share|pct|frac)$")


def _words(slug: str) -> str:
    return slug.replace("_", " ").strip()


def _share_term(rest: str, high: bool) -> Term | None:
    """Term for a share column without its share_ prefix (``channel_web``, ``cat_kids``, ``web``)."""
    for prefix in ("channel_", ""):
        if rest.startswith(prefix) and rest[len(prefix) :] in CHANNELS:
            adjective = CHANNELS[rest[len(prefix) :]]
            # no noun: "online shoppers" would crowd out the behaviour that heads a name better
            if high:
                return Term(adjective, CHANNEL)
            low = LOW_CHANNELS.get(adjective)
            return Term(low, CHANNEL) if low else None
    if rest.startswith("channel_"):
        return Term(f"{_words(rest[8:])}-channel", CHANNEL) if high else None
    if rest.startswith(("cat_", "category_")):
        cat = rest.split("_", 1)[1]
        label = CATEGORIES.get(cat, _words(cat))
        return Term(f"{label}-focused", CATEGORY, f"{label} shoppers") if high else None
    if rest.startswith("method_"):
        method = rest[7:]
        return METHODS.get(method, Term(_words(method), CHANNEL)) if high else None
    return None


def term_for(feature: str, z: float) -> Term | None:
    """The words for ``feature`` when a segment's mean is ``z`` sd from the overall mean.

    Known columns get their vocabulary word, unknown ones ``"high <column>"`` or
    ``"low <column>"``; None when the direction is not worth naming (a low return rate).
    """
    high = z >= 0
    key = feature.lower()
    if key in VOCABULARY:
        return VOCABULARY[key][0 if high else 1]
    match = _SHARE.match(key)
    if match:
        term = _share_term(match.group(1) or match.group(2), high)
        if term is not None or not high:
            return term
    return Term(f"{'high' if high else 'low'} {feature}", OTHER)


def _traits(row: pd.Series) -> tuple[list[Term], int]:
    """A segment's terms, strongest first, one per distinct adjective, and how many of them
    reach :data:`MIN_Z` (the fainter ones only serve to tell two segments apart)."""
    strength = row.abs().fillna(0.0).sort_values(ascending=False, kind="stable")
    terms: list[Term] = []
    n_strong = 0
    seen: set[str] = set()
    for feature, size in strength.items():
        term = term_for(str(feature), float(row[feature]))
        if term is not None and term.adjective not in seen and size > 0:
            seen.add(term.adjective)
            terms.append(term)
            n_strong += size >= MIN_Z
    return terms, n_strong


def _compose(terms: list[Term]) -> str:
    if not terms:
        return AVERAGE_NAME
    head = next((t for t in terms if t.noun), None)
    adjectives = sorted((t for t in terms if t is not head), key=lambda t: t.slot)  # stable
    return " ".join([t.adjective for t in adjectives] + [head.noun if head else DEFAULT_NOUN])


def segment_names(centers: pd.DataFrame, /) -> pd.Series:
    """A unique name in words for every segment (row) of ``centers``.

    ``centers`` holds each segment's feature means in standard deviations from the overall mean,
    one row per segment in the segments' order (largest first). Names start with the
    :data:`MAX_TERMS` strongest traits of at least :data:`MIN_Z`; when two segments come out
    the same, each of them takes one more trait (fainter ones too) at a time until they differ,
    and a name still shared is numbered
    ("... (2)") in segment order.
    """
    traits, n_terms = {}, {}
    for seg, row in centers.iterrows():
        terms, n_strong = _traits(row)
        traits[seg], n_terms[seg] = terms, min(n_strong, MAX_TERMS)
    names = {seg: _compose(t[: n_terms[seg]]) for seg, t in traits.items()}
    grown = True
    while grown:  # ends: every round adds a term to some segment, and terms run out
        by_name: dict[str, list] = defaultdict(list)
        for seg, name in names.items():
            by_name[name].append(seg)
        grown = False
        for members in (m for m in by_name.values() if len(m) > 1):
            if all(traits[seg] == traits[members[0]] for seg in members):
                continue  # more words cannot tell identical profiles apart
            for seg in members:
                if n_terms[seg] < len(traits[seg]):
                    n_terms[seg] += 1
                    names[seg] = _compose(traits[seg][: n_terms[seg]])
                    grown = True
    used: set[str] = set()
    for seg, name in names.items():  # centers' order: the larger segment keeps the plain name
        candidate, i = name, 2
        while candidate in used:
            candidate, i = f"{name} ({i})", i + 1
        used.add(candidate)
        names[seg] = candidate
    return pd.Series(names, name="name").rename_axis(centers.index.name)
