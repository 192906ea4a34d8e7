"""Fixtures for the identity tests: warehouses holding small customer tables."""

from __future__ import annotations

import pandas as pd
import pytest

from crmine.warehouse import connect

COLUMNS = [
    "customer_id", "name", "email", "phone", "address", "postcode", "birth_date", "gender",
    "source_system",
]  # fmt: skip

# Eight records, worked out by hand:
# - crm-1 / web-1: one person; e-mail typo, phone +44 vs 0, postcode and address reformatted.
# - crm-3 / web-3: one person; "Tom" vs "Thomas", same e-mail and postcode, the rest missing.
# - crm-2: another Jane Smith, with another birth date, e-mail, phone and address.
# - the rest: one record each.
HAND_ROWS = [
    ("crm-1", "Jane Smith", "jane.smith@example.com", "+44 7700 900123", "12 High Street", "SW1A 1AA", "1980-04-02", "F", "crm"),
    ("web-1", "SMITH, jane", "jane.smtih@example.com", "07700900123", "12 high st", "sw1a1aa", "1980-04-02", "female", "web"),
    ("crm-2", "Jane Smith", "jsmith77@mail.com", "07700 900777", "4 Mill Lane", "LS1 4AB", "1955-11-30", "F", "crm"),
    ("crm-3", "Tom Baker", "tom.baker@example.org", "07700 900456", "9 Church Road", "M1 2CD", "1972-06-15", "M", "crm"),
    ("web-3", "Thomas Baker", "Tom.Baker@example.org", None, None, "M12CD", None, None, "web"),
    ("crm-4", "Priya Patel", "priya@example.net", "07700 900999", "1 Station Road", "B1 1AA", "1990-01-01", "F", "crm"),
    ("web-5", "Ali Khan", "ali.khan@example.com", "+447700900555", "77 Queens Avenue", "E1 6AN", "1985-09-09", "M", "web"),
    ("crm-6", "Amy Jones", None, "07700 900321", "3 Park Close", "CF10 1AA", "2000-12-24", "F", "crm"),
]  # fmt: skip
HAND_TRUTH = {"crm-1": "A", "web-1": "A", "crm-2": "B", "crm-3": "C", "web-3": "C", "crm-4": "D",
              "web-5": "E", "crm-6": "F"}  # fmt: skip


def hand_customers() -> pd.DataFrame:
    df = pd.DataFrame(HAND_ROWS, columns=COLUMNS)
    df["birth_date"] = pd.to_datetime(df["birth_date"])
    return df


@pytest.fixture
def hand_df() -> pd.DataFrame:
    """The eight hand-made records as a frame, to alter before writing."""
    return hand_customers()


@pytest.fixture
def hand_truth() -> pd.DataFrame:
    return pd.DataFrame(
        {"source_customer_id": list(HAND_TRUTH), "person_id": list(HAND_TRUTH.values())}
    )


@pytest.fixture
def warehouse():
    """An in-memory DuckDB warehouse, closed after the test."""
    wh = connect()
    yield wh
    wh.close()


@pytest.fixture
def hand_wh(warehouse):
    """A warehouse whose ``customers`` holds the eight hand-made records."""
    warehouse.write("customers", hand_customers())
    return warehouse
