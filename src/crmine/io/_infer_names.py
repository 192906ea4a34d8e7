"""Column names as exports spell them, for each canonical column, and how well a raw name matches.

Names are compared as words, so case, spaces, underscores and camel case do not matter:
``CustomerID``, ``Customer ID``, ``customer_id`` and ``CUSTOMER-ID`` are the words "customer id".
A name that *is* an alias matches strongly; one that merely *contains* an alias's words matches
weakly, and not at all when it also holds a word that says it is something else ("Ship Date"
is a date, but not when the order was placed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ALIASES", "KINDS", "VETO", "NameMatch", "match_name", "words"]


def words(name: str) -> tuple[str, ...]:
    """The lower-case words of a column name.

    Examples
    --------
    >>> words("InvoiceDate"), words("Customer ID"), words("SALES_VALUE"), words("customerID")
    (('invoice', 'date'), ('customer', 'id'), ('sales', 'value'), ('customer', 'id'))
    """
    return tuple(w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name))


# Aliases: (strong, weak). A strong alias names the column plainly; a weak one is a common word
# that often, not always, means it ("value", "client"). The canonical name is always strong.
_CUSTOMER_ID = ("customer id", "customer no", "customer number", "customer key", "customer code", "cust id",
                "cust no", "custno", "client id", "client no", "client number", "household key",
                "member id", "member no", "member number", "user id", "account id", "account no",
                "account number", "loyalty id", "card id", "card no", "buyer id", "shopper id", "customer ref")
_CUSTOMER_WEAK = ("customer", "cust", "client", "household", "member", "user", "account", "buyer", "shopper")
_TS_WEAK = ("date", "time", "day", "datetime", "timestamp", "created", "created at", "ts")
_NAME = ("name", "full name")
_CHANNEL = ("channel", "sales channel", "order channel", "medium")

ALIASES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "customers": {
        "customer_id": (_CUSTOMER_ID, (*_CUSTOMER_WEAK, "id")),
        "name": (("customer name", "full name", "client name", "contact name", "name"), ()),
        "email": (("email", "e mail", "email address", "mail address", "e mail address"), ("mail",)),
        "phone": (("phone", "phone number", "telephone", "tel", "mobile", "mobile phone", "cell phone",
                   "mobile number", "contact number", "phone no"), ("cell",)),
        "address": (("address", "street", "street address", "address line", "address line 1", "address 1"), ()),
        "city": (("city", "town", "customer city"), ("locality",)),
        "region": (("region", "state", "county", "province", "state province", "customer state"), ("area",)),
        "postcode": (("postcode", "postal code", "post code", "zip", "zip code", "zipcode", "postcode prefix",
                      "zip code prefix", "pin code"), ()),
        "country": (("country", "country code", "nation"), ()),
        "birth_date": (("birth date", "date of birth", "dob", "birthday", "birthdate"), ("born",)),
        "gender": (("gender", "sex"), ()),
        "income": (("income", "annual income", "yearly income", "household income", "salary"), ()),
        "occupation": (("occupation", "job", "profession", "job title"), ()),
        "education": (("education", "education level", "degree"), ()),
        "signup_date": (("signup date", "sign up date", "registration date", "registered", "join date",
                         "joined", "customer since", "created at", "dt customer", "signup"), ("since",)),
        "source_system": (("source system", "system"), ("source",)),
    },
    "products": {
        "product_id": (("product id", "sku", "stock code", "item id", "item code", "product code", "article id",
                        "article no", "product no", "upc", "ean", "barcode"), ("product", "item", "article", "id")),
        "name": (("product name", "item name", "description", "product description", "title", "name"), ()),
        "category": (("category", "product category", "product category name", "department", "category name",
                      "product group"), ("group", "class")),
        "subcategory": (("subcategory", "sub category", "subclass", "product subclass", "sub class"), ()),
        "brand": (("brand", "brand name", "manufacturer", "make"), ()),
        "list_price": (("list price", "price", "unit price", "retail price", "msrp", "regular price"), ()),
        "unit_cost": (("unit cost", "cost", "cost price", "purchase price"), ()),
    },
    "transactions": {
        "order_id": (("order id", "invoice no", "invoice", "invoice id", "invoice number", "order no",
                      "order number", "basket id", "transaction id", "txn id", "receipt id", "receipt no",
                      "receipt number", "bill no", "sale id", "order"), ("basket", "transaction", "receipt", "ticket")),
        "line_no": (("line no", "line number", "line", "line id", "order item id", "line item", "item no",
                     "position"), ("seq",)),
        "customer_id": (_CUSTOMER_ID, _CUSTOMER_WEAK),
        "ts": (("invoice date", "order date", "transaction date", "transaction dt", "purchase date",
                "purchase time", "purchase timestamp", "sale date", "sales date", "order datetime",
                "order time", "trans date", "txn date", "date of purchase", "ordered at", "purchased at",
                "sold at", "order timestamp", "timestamp", "ts"), _TS_WEAK),
        "product_id": (("product id", "stock code", "sku", "item id", "item code", "product code", "article id",
                        "product no", "upc", "ean", "barcode"), ("product", "item", "article")),
        "product_name": (("description", "product name", "item name", "item description",
                          "product description", "article name"), ("product title",)),
        "quantity": (("quantity", "qty", "units", "units sold", "quantity sold", "number of items",
                      "item count", "pieces"), ("count",)),
        "unit_price": (("unit price", "price", "price each", "item price", "selling price", "sale price",
                        "sales price", "price per unit"), ("rate",)),
        "amount": (("amount", "total", "total amount", "sales", "sales value", "revenue", "line total",
                    "net amount", "total price", "spend", "total spent", "payment value", "gross amount",
                    "order value", "line value", "turnover", "extended price", "subtotal", "sales amount"),
                   ("value", "net", "sale")),
        "discount": (("discount", "discount amount", "retail disc", "coupon disc", "markdown", "rebate"), ()),
        "channel": (_CHANNEL, ()),
        "sales_method": (("sales method", "sale method", "order type", "method"), ()),
        "store_id": (("store id", "store", "store no", "shop id", "shop", "outlet", "branch", "store code"),
                     ("location",)),
        "promotion_id": (("promotion id", "promo id", "promo code", "coupon id", "coupon code", "promotion",
                          "promo"), ("coupon",)),
        "is_return": (("is return", "return", "returned", "is refund", "refund", "return flag"), ()),
        "non_product": (("non product", "is fee", "non merchandise", "not a product"), ()),
    },
    "promotions": {
        "promotion_id": (("promotion id", "promo id", "promo code", "promotion code"), ("promotion", "promo", "id")),
        "name": (("promotion name", "promo name", *_NAME), ()),
        "type": (("type", "promotion type", "promo type", "kind"), ()),
        "start": (("start", "start date", "begin", "valid from", "from date"), ("from",)),
        "end": (("end", "end date", "valid to", "valid until", "to date", "until"), ("to",)),
        "discount_pct": (("discount pct", "discount percent", "percent off", "discount rate", "discount"), ()),
    },
    "campaigns": {
        "campaign_id": (("campaign id", "campaign code", "campaign no"), ("campaign", "id")),
        "name": (("campaign name", *_NAME), ()),
        "channel": (_CHANNEL, ()),
        "start": (("start", "start date", "launch date", "send date", "begin"), ()),
        "end": (("end", "end date", "close date", "response deadline"), ()),
        "offer": (("offer", "offer type", "incentive"), ()),
        "cost_per_contact": (("cost per contact", "cost per mail", "unit cost", "cost"), ()),
        "margin_per_response": (("margin per response", "margin", "value per response"), ()),
    },
    "campaign_contacts": {
        "campaign_id": (("campaign id", "campaign code"), ("campaign",)),
        "customer_id": (_CUSTOMER_ID, _CUSTOMER_WEAK),
        "ts": (("contact date", "sent at", "send date", "contacted at", "mailing date"), _TS_WEAK),
        "group": (("group", "test group", "arm", "treatment", "variant", "cell", "control group",
                   "test control", "holdout"), ("test",)),
        "channel": (_CHANNEL, ()),
    },
    "campaign_responses": {
        "campaign_id": (("campaign id", "campaign code"), ("campaign",)),
        "customer_id": (_CUSTOMER_ID, _CUSTOMER_WEAK),
        "response_type": (("response type", "response", "event", "event type", "action", "outcome"), ()),
        "ts": (("response date", "responded at", "event date", "event time"), _TS_WEAK),
        "value": (("value", "revenue", "response value", "amount", "order value"), ()),
    },
    "interactions": {
        "interaction_id": (("interaction id", "ticket id", "case id", "call id", "contact id", "ticket no",
                            "case number"), ("ticket", "case", "id")),
        "customer_id": (_CUSTOMER_ID, _CUSTOMER_WEAK),
        "ts": (("contact date", "created at", "opened at", "call date", "interaction date", "ticket date"),
               _TS_WEAK),
        "channel": (_CHANNEL, ()),
        "type": (("type", "interaction type", "reason", "topic", "contact reason", "issue type"), ("category",)),
        "agent_id": (("agent id", "agent", "employee id", "rep id", "handled by", "staff id", "operator"), ("rep",)),
        "duration_s": (("duration s", "duration", "duration sec", "duration seconds", "handle time",
                        "talk time", "call duration"), ()),
        "resolved": (("resolved", "is resolved", "solved", "closed"), ()),
        "satisfaction": (("satisfaction", "csat", "rating", "satisfaction score", "score"), ()),
    },
    "feedback": {
        "feedback_id": (("feedback id", "review id", "comment id", "response id", "survey id"), ("id",)),
        "customer_id": (_CUSTOMER_ID, _CUSTOMER_WEAK),
        "ts": (("review date", "feedback date", "submitted at", "created at", "review creation date"), _TS_WEAK),
        "channel": (_CHANNEL, ("source",)),
        "text": (("text", "comment", "comments", "review", "review text", "feedback", "message", "body",
                  "verbatim", "review comment message", "remarks"), ()),
    },
    "consents": {
        "customer_id": (_CUSTOMER_ID, _CUSTOMER_WEAK),
        "purpose": (("purpose", "consent type", "consent purpose", "permission"), ("type",)),
        "channel": (_CHANNEL, ()),
        "granted": (("granted", "consent", "opt in", "opted in", "optin", "subscribed", "consent given",
                     "permission granted"), ("status",)),
        "ts": (("consent date", "granted at", "updated at", "changed at"), _TS_WEAK),
    },
    "employees": {
        "agent_id": (("agent id", "employee id", "staff id", "emp id", "employee no", "rep id"), ("agent", "employee", "id")),
        "team": (("team", "department", "group", "unit"), ()),
        "hired": (("hired", "hire date", "hired at", "start date", "date hired", "joined"), ()),
    },
}

# Words that say a column is something other than the alias it contains: "Ship Date" is not
# when the order was placed; "Customer Name" is not the customer's id.
VETO = {
    "ts": {"ship", "shipping", "delivery", "delivered", "due", "estimated", "limit", "approved", "carrier",
           "birth", "expiry", "expiration", "review", "answer", "first", "last", "signup", "registration"},
    "amount": {"tax", "shipping", "freight", "cost", "profit", "margin", "discount"},
    "unit_price": {"list", "cost", "original"},
    "quantity": {"return", "returned"},
}
# A column whose canonical name ends in _id holds codes; a name that merely contains the entity's
# word ("customer_city") needs one of these words too.
_ID_WORDS = {"id", "no", "nr", "num", "number", "key", "code", "ref", "uid"}

# What each canonical column's content looks like, for the content checks.
KINDS: dict[str, str] = {
    "customer_id": "id", "product_id": "id", "order_id": "id", "promotion_id": "id", "campaign_id": "id",
    "interaction_id": "id", "feedback_id": "id", "agent_id": "id", "store_id": "id",
    "email": "email", "phone": "phone", "text": "free_text",
    "amount": "money", "unit_price": "money", "list_price": "money", "unit_cost": "money", "discount": "money",
    "value": "money", "cost_per_contact": "money", "margin_per_response": "money", "income": "number",
    "quantity": "quantity", "line_no": "integer", "duration_s": "number", "satisfaction": "number",
    "discount_pct": "number",
    "ts": "timestamp", "birth_date": "timestamp", "signup_date": "timestamp", "start": "timestamp",
    "end": "timestamp", "hired": "timestamp",
    "is_return": "boolean", "non_product": "boolean", "resolved": "boolean", "granted": "boolean",
    "channel": "category", "gender": "category", "type": "category", "group": "category",
    "response_type": "category", "purpose": "category", "sales_method": "category", "team": "category",
    "category": "category", "subcategory": "category", "brand": "category", "region": "category",
    "country": "category", "occupation": "category", "education": "category", "source_system": "category",
}


@dataclass(frozen=True)
class NameMatch:
    """How a raw name matches a canonical column: a score in [0, 1] and the words of the reason."""

    score: float
    reason: str


def match_name(raw: str, table: str, canonical: str) -> NameMatch | None:
    """How well ``raw`` names ``canonical`` of ``table``; None when it does not."""
    strong, weak = ALIASES.get(table, {}).get(canonical, ((), ()))
    raw_words = words(raw)
    joined = "".join(raw_words)
    strong = (canonical.replace("_", " "), *strong)
    for alias in strong:
        if joined == alias.replace(" ", ""):
            return NameMatch(1.0, f"name {raw!r} matches {canonical}")
    for alias in weak:
        if joined == alias.replace(" ", ""):
            return NameMatch(0.75, f"name {raw!r} is a common name for {canonical}")
    return _contains(raw, raw_words, strong, canonical)


def _contains(raw: str, raw_words: tuple[str, ...], strong: tuple[str, ...], canonical: str) -> NameMatch | None:
    """A weak match: the raw name holds every word of a strong alias, and no word against it."""
    present = set(raw_words)
    best: NameMatch | None = None
    for alias in strong:
        alias_words = alias.split()
        if not set(alias_words) <= present or len(raw_words) > 5:
            continue
        if KINDS.get(canonical) == "id" and not (present & _ID_WORDS):
            continue
        score = 0.8 if len(alias_words) > 1 else 0.5
        against = (present - set(alias_words)) & VETO.get(canonical, set())
        if against:
            score = 0.35
        if best is None or score > best.score:
            best = NameMatch(score, f"name {raw!r} contains {alias!r}" +
                             (f", but also {sorted(against)[0]!r}" if against else ""))
    return best
