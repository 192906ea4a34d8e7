"""The canonical data model: eleven tables, their columns, types, rules and meaning.

Raw source columns are mapped to these names once, at ingest (see ``crmine.toml``); every later
step uses these names. The same declarations drive table creation, validation at ingest and the
data dictionary, so the three can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from crmine.errors import SchemaError

__all__ = ["EARLIEST", "LATEST", "TABLES", "Column", "Table", "LOAD_ORDER", "require_columns", "table"]

# Logical types; the warehouse maps them to engine types.
DTYPES = ("string", "timestamp", "float64", "int64", "boolean")

# Every timestamp lies on or after EARLIEST: years such as 0001 are placeholders, not dates. A past
# fact (an order, a contact, a birth, a hire) lies before the load time plus a small tolerance
# (``[ingest] future_tolerance_days``); a planned one (a campaign's or promotion's start and end)
# may lie ahead, but before LATEST, so that a placeholder such as 9999-12-31 is not taken for a day.
EARLIEST = "1900-01-01"
LATEST = "2200-01-01"


@dataclass(frozen=True)
class Column:
    """One canonical column: its type, whether a row may lack it, its valid range and meaning."""

    name: str
    dtype: str
    description: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] = ()
    references: str | None = None  # "table.column" that must already hold the value
    # Timestamps only: the value may lie in the future (a planned day), up to LATEST; otherwise it
    # is a past fact and lies before the load time plus the tolerance.
    planned: bool = False
    # Made by ingest when a source lacks it (transactions without an order id or line numbers).
    synthesised: bool = False
    used_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns in order and the columns that identify a row."""

    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    extra: tuple[str, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name, dtype, description, **kw) -> Column:
    return Column(name, dtype, description, **kw)


_CUSTOMER_REF = "customers.customer_id"

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "customers",
            "One row per customer record, as each source system knows it; identity resolution "
            "links records of the same person in customer_lineage.",
            ("customer_id",),
            (
                _c("customer_id", "string", "Identifier of the record in its source system.", required=True, used_by=("all",)),
                _c("name", "string", "Full name.", used_by=("identity",)),
                _c("email", "string", "E-mail address.", used_by=("identity", "exports")),
                _c("phone", "string", "Telephone number, any format.", used_by=("identity", "exports")),
                _c("address", "string", "Street address.", used_by=("identity",)),
                _c("city", "string", "City or town.", used_by=("query",)),
                _c("region", "string", "Region, state or county.", used_by=("query", "segments")),
                _c("postcode", "string", "Postal code.", used_by=("identity", "query")),
                _c("country", "string", "Country code or name.", used_by=("query",)),
                _c("birth_date", "timestamp", "Date of birth.", min=None, used_by=("identity", "query", "models")),
                _c("gender", "string", "Gender as recorded (F, M, X or blank).", used_by=("query", "models")),
                _c("income", "float64", "Annual income in the account currency.", min=0, max=1e8, used_by=("query", "models")),
                _c("occupation", "string", "Occupation.", used_by=("query", "models")),
                _c("education", "string", "Highest education.", used_by=("query", "models")),
                _c("signup_date", "timestamp", "When the customer first registered.", used_by=("loyalty", "models")),
                _c("source_system", "string", "Name of the system the record came from.", used_by=("identity",)),
            ),
        ),
        Table(
            "products",
            "The product catalogue.",
            ("product_id",),
            (
                _c("product_id", "string", "Product identifier.", required=True, used_by=("all",)),
                _c("name", "string", "Product name."),
                _c("category", "string", "Top-level category.", used_by=("behaviour", "cross-sell")),
                _c("subcategory", "string", "Second-level category.", used_by=("cross-sell",)),
                _c("brand", "string", "Brand."),
                _c("list_price", "float64", "Regular unit price.", min=0, used_by=("pricing",)),
                _c("unit_cost", "float64", "Cost of one unit, for profit.", min=0, used_by=("key customers", "pricing")),
            ),
        ),
        Table(
            "transactions",
            "Order lines: one row per product on an order; returns have is_return true.",
            ("order_id", "line_no"),
            (
                _c("order_id", "string", "Order identifier; without one, a line's order is its customer and timestamp.", required=True, synthesised=True, used_by=("all",)),
                _c("line_no", "int64", "Line number within the order; numbered in file order when the source has none.", required=True, min=0, synthesised=True),
                _c("customer_id", "string", "Customer who placed the order; empty for a guest purchase (kept as a sale, left out of per-customer analyses).", references=_CUSTOMER_REF, used_by=("all",)),
                _c("ts", "timestamp", "When the order was placed.", required=True, used_by=("rfm", "clv", "loyalty")),
                _c("product_id", "string", "Product bought.", references="products.product_id", used_by=("behaviour", "cross-sell")),
                _c("product_name", "string", "Product description as on the line; names inferred products when no catalogue is loaded."),
                _c("quantity", "float64", "Units on the line.", min=0, used_by=("pricing",)),
                _c("unit_price", "float64", "Price paid per unit (negative only on adjustment lines, which count as non-product).", used_by=("pricing",)),
                _c("amount", "float64", "Line value after discount (negative for returns).", required=True, min=-1e7, max=1e7, used_by=("rfm", "clv", "key customers")),
                _c("discount", "float64", "Discount given on the line, as money.", min=0),
                _c("channel", "string", "Channel of the sale (store, web, catalog, phone).", used_by=("behaviour",)),
                _c("sales_method", "string", "How it was sold (self-service, assisted, subscription).", used_by=("sales",)),
                _c("store_id", "string", "Store or outlet."),
                _c("promotion_id", "string", "Promotion applied, if any.", used_by=("sales",)),
                _c("is_return", "boolean", "True when the line is a return or cancellation (also inferred from a negative quantity or the source's return_prefix)."),
                _c("non_product", "boolean", "True for lines that are not goods (postage, fees, manual adjustments, bank charges); left out of product analyses."),
            ),
        ),
        Table(
            "promotions",
            "Price promotions.",
            ("promotion_id",),
            (
                _c("promotion_id", "string", "Promotion identifier.", required=True),
                _c("name", "string", "Promotion name."),
                _c("type", "string", "Kind of promotion (percent_off, bundle, ...)."),
                _c("start", "timestamp", "First day.", planned=True),
                _c("end", "timestamp", "Last day.", planned=True),
                _c("discount_pct", "float64", "Discount in percent.", min=0, max=100),
            ),
        ),
        Table(
            "campaigns",
            "Marketing campaigns.",
            ("campaign_id",),
            (
                _c("campaign_id", "string", "Campaign identifier.", required=True, used_by=("response", "lift")),
                _c("name", "string", "Campaign name."),
                _c("channel", "string", "Contact channel (email, mail, sms, phone)."),
                _c("start", "timestamp", "First contact day.", planned=True),
                _c("end", "timestamp", "Last day a response counts.", planned=True),
                _c("offer", "string", "What was offered."),
                _c("cost_per_contact", "float64", "Cost of one contact.", min=0, used_by=("targeting",)),
                _c("margin_per_response", "float64", "Margin earned per response.", used_by=("targeting",)),
            ),
        ),
        Table(
            "campaign_contacts",
            "Who was contacted by a campaign, or held out as control.",
            ("campaign_id", "customer_id"),
            (
                _c("campaign_id", "string", "Campaign.", required=True, references="campaigns.campaign_id"),
                _c("customer_id", "string", "Customer.", required=True, references=_CUSTOMER_REF),
                _c("ts", "timestamp", "When contacted."),
                _c("group", "string", "treatment or control.", required=True, allowed=("treatment", "control"), used_by=("lift", "uplift")),
                _c("channel", "string", "Channel of the contact."),
            ),
        ),
        Table(
            "campaign_responses",
            "Responses to campaigns (open, click, purchase, ...).",
            ("campaign_id", "customer_id", "response_type"),
            (
                _c("campaign_id", "string", "Campaign.", required=True, references="campaigns.campaign_id"),
                _c("customer_id", "string", "Customer.", required=True, references=_CUSTOMER_REF),
                _c("response_type", "string", "Kind of response.", required=True, used_by=("response",)),
                _c("ts", "timestamp", "When the response happened."),
                _c("value", "float64", "Money attributed to the response.", min=-1e7, max=1e7),
            ),
        ),
        Table(
            "interactions",
            "Service and sales contacts with customers.",
            ("interaction_id",),
            (
                _c("interaction_id", "string", "Interaction identifier.", required=True),
                _c("customer_id", "string", "Customer.", required=True, references=_CUSTOMER_REF),
                _c("ts", "timestamp", "When it happened.", required=True),
                _c("channel", "string", "phone, email, chat, store."),
                _c("type", "string", "complaint, question, order, ..."),
                _c("agent_id", "string", "Employee who handled it.", references="employees.agent_id", used_by=("service",)),
                _c("duration_s", "float64", "Duration in seconds.", min=0, max=86400),
                _c("resolved", "boolean", "Whether the matter was resolved.", used_by=("service",)),
                _c("satisfaction", "float64", "Satisfaction score 1-5.", min=1, max=5, used_by=("service",)),
            ),
        ),
        Table(
            "feedback",
            "Free-text feedback from customers.",
            ("feedback_id",),
            (
                _c("feedback_id", "string", "Feedback identifier.", required=True),
                _c("customer_id", "string", "Customer.", required=True, references=_CUSTOMER_REF),
                _c("ts", "timestamp", "When it was given."),
                _c("channel", "string", "Where it was given."),
                _c("text", "string", "The text.", used_by=("text",)),
            ),
        ),
        Table(
            "consents",
            "Permission to contact a customer, per purpose and channel: a history, one row per grant or "
            "withdrawal; the state at a moment is the latest row at or before it.",
            ("customer_id", "purpose", "channel", "ts"),
            (
                _c("customer_id", "string", "Customer.", required=True, references=_CUSTOMER_REF),
                _c("purpose", "string", "marketing, profiling, ...", required=True, used_by=("exports",)),
                _c("channel", "string", "email, mail, sms, phone.", required=True, used_by=("exports",)),
                _c("granted", "boolean", "Whether consent is given.", required=True, used_by=("exports",)),
                _c("ts", "timestamp", "When it was given or withdrawn."),
            ),
        ),
        Table(
            "employees",
            "Staff who handle customer interactions.",
            ("agent_id",),
            (
                _c("agent_id", "string", "Employee identifier.", required=True),
                _c("team", "string", "Team."),
                _c("hired", "timestamp", "Hire date."),
            ),
        ),
    ]
}

# Tables referenced by others load first, so that references can be checked.
LOAD_ORDER: tuple[str, ...] = (
    "customers",
    "products",
    "promotions",
    "campaigns",
    "employees",
    "transactions",
    "campaign_contacts",
    "campaign_responses",
    "interactions",
    "feedback",
    "consents",
)


def table(name: str) -> Table:
    """The canonical table called ``name``, or a SchemaError listing the valid names."""
    try:
        return TABLES[name]
    except KeyError:
        raise SchemaError(
            f"Unknown table {name!r}. Canonical tables: {', '.join(TABLES)}."
        ) from None


def require_columns(present: Iterable[str], needed: Iterable[str], *, where: str, hint: str = "") -> None:
    """Raise one SchemaError naming every column of ``needed`` missing from ``present``."""
    have = set(present)
    missing = [c for c in needed if c not in have]
    if missing:
        msg = (
            f"{where} lacks column(s) {', '.join(missing)}. "
            f"Existing columns: {', '.join(sorted(have)) or '(none)'}."
        )
        raise SchemaError(msg + (f" {hint}" if hint else ""))
