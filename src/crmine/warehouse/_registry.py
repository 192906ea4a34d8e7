"""The registry of the tables crmine derives: what each holds, its key, and which step writes it.

Canonical tables are described by :mod:`crmine.schema`; everything else in the warehouse is written
by a step of ``crmine run`` (or crmine's own bookkeeping) and is listed here. Status, the report and
the run read this list instead of repeating table names, and whatever must find a customer's rows
(an erasure, an access request, the API) asks :func:`customer_tables` which tables to look in.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DERIVED", "DerivedTable", "customer_tables", "derived", "derived_table"]


@dataclass(frozen=True)
class DerivedTable:
    """One derived table.

    ``key`` is the columns that identify a row; ``customer_column`` the column holding the unified
    customer id when rows are about one customer (None for summaries); ``personal`` says whether rows
    may carry personal values (raw source records, names, e-mails) rather than ids and measures.
    """

    name: str
    step: str
    key: tuple[str, ...]
    meaning: str
    customer_column: str | None = "customer_id"
    personal: bool = False

    @property
    def holds_customer_data(self) -> bool:
        return self.customer_column is not None or self.personal


DERIVED: tuple[DerivedTable, ...] = (
    DerivedTable("load_log", "ingest", ("load_id",), "One row per load: file, counts read / loaded / quarantined.",
                 customer_column=None),
    DerivedTable("quarantine", "ingest", ("load_id", "line"), "Rows that failed a rule, with the raw record.",
                 customer_column=None, personal=True),
    DerivedTable("customer_lineage", "identity", ("source_system", "customer_id"),
                 "Which source records make up each unified customer.", customer_column="unified_id"),
    DerivedTable("customer_lineage_history", "identity", ("source_system", "customer_id", "valid_from"),
                 "Every (record, unified id) pair the lineage has held, with valid_from / valid_to.",
                 customer_column="unified_id"),
    DerivedTable("identity_state", "identity", ("unique_id",),
                 "A fingerprint of each record's identifying values at the last resolution (what changed since).",
                 customer_column="unique_id"),
    DerivedTable("identity_model", "identity", (), "The match model of the last full resolution (Splink JSON).",
                 customer_column=None),
    DerivedTable("identity_changes", "identity", ("at", "old_id"), "Merges, splits and retirements of unified ids.",
                 customer_column=None),
    DerivedTable("customer_table", "customers", ("customer_id",), "One row per customer: the features as of a day."),
    DerivedTable("customer_table_info", "customers", (), "The as-of day the customer table was built for.",
                 customer_column=None),
    DerivedTable("rfm_scores", "rfm", ("customer_id",), "Recency, frequency and monetary scores and segment."),
    DerivedTable("behaviour_groups", "behaviours", ("customer_id",), "Reaction-behaviour group per customer."),
    DerivedTable("customer_segments", "segments", ("customer_id",), "The segment of each customer."),
    DerivedTable("segment_profiles", "segments", ("segment",), "What each segment looks like.", customer_column=None),
    DerivedTable("segment_selection", "segments", ("k",), "The fit of each candidate number of segments.",
                 customer_column=None),
    DerivedTable("loyalty_scores", "loyalty", ("customer_id",), "Durability, robustness and stability scores."),
    DerivedTable("clv_scores", "clv", ("customer_id",), "Expected purchases, alive probability and lifetime value."),
    DerivedTable("clv_check_calibration", "clv", ("frequency",), "Predicted vs actual repeat purchases by frequency.",
                 customer_column=None),
    DerivedTable("clv_check_tracking", "clv", ("period",), "Predicted vs actual purchases per period.",
                 customer_column=None),
    DerivedTable("churn_scores", "churn", ("customer_id",), "Churn probability and its reasons per customer."),
    DerivedTable("churn_drivers", "drivers", ("feature",), "What drives churn across customers.",
                 customer_column=None),
    DerivedTable("campaign_lift", "campaigns", ("campaign_id", "arm", "outcome"),
                 "Each campaign's lift over its control group, per arm and outcome.", customer_column=None),
    DerivedTable("uplift_list_scores", "uplift targets", ("file", "customer_id"),
                 "The predicted uplift of each customer on an exported uplift list, for its realised lift."),
    DerivedTable("privacy_suppressed", "privacy", ("key_hash",),
                 "Salted hashes of erased people's source ids and e-mail addresses, kept out of every load.",
                 customer_column=None),
    DerivedTable("privacy_log", "privacy", ("at", "kind"),
                 "Every erasure, access request and retention run: kind, when, by whom, rows per table.",
                 customer_column=None),
    DerivedTable("lookalike_scores", "lookalike", ("customer_id",), "Resemblance of each customer to a seed group."),
    DerivedTable("export_audit", "targets", ("exported", "file"), "Every file of customer data crmine wrote.",
                 customer_column=None),
    DerivedTable("api_keys", "serve", ("key_id",), "API keys of `crmine serve`: role, created, revoked, salted hash.",
                 customer_column=None),
)

def _histories() -> tuple[DerivedTable, ...]:
    """Each canonical table's history: every version of its rows, with when it was valid."""
    from crmine.schema import TABLES

    personal = {"customers", "interactions", "feedback"}  # names, contact details, free text
    return tuple(
        DerivedTable(f"{t.name}_history", "ingest", (*t.key, "valid_from"),
                     f"Every version of the rows of {t.name}, with valid_from / valid_to, load_id and change.",
                     customer_column="customer_id" if "customer_id" in t.column_names else None,
                     personal=t.name in personal)
        for t in TABLES.values()
    )


DERIVED = DERIVED[:2] + _histories() + DERIVED[2:]
_BY_NAME = {t.name: t for t in DERIVED}


def derived() -> tuple[DerivedTable, ...]:
    """Every derived table, in the order the steps write them."""
    return DERIVED


def derived_table(name: str) -> DerivedTable:
    """The entry for ``name``; KeyError names the known tables."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a derived table; known: {', '.join(_BY_NAME)}") from None


def customer_tables() -> tuple[DerivedTable, ...]:
    """The derived tables that hold rows about a customer, for erasure and access requests."""
    return tuple(t for t in DERIVED if t.holds_customer_data)
