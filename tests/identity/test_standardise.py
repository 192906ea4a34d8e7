"""The standardised matching columns, checked value by value."""

from __future__ import annotations

import pandas as pd
import pytest

from crmine.identity._standardise import standardise


def _std(warehouse, **columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    df = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], **columns})
    warehouse.write("customers", df)
    return warehouse.execute(standardise(warehouse.table("customers"))).set_index("unique_id")


def test_standardise_phone_forms_agree(warehouse):
    forms = ["+44 7700 900123", "07700900123", "07700 900123", "0044 7700-900-123",
             "+44 (0)7700 900123", "(07700) 900123", "447700900123", "+447700900123"]  # fmt: skip
    out = _std(warehouse, phone=forms)
    assert set(out["phone"]) == {"7700900123"}


def test_standardise_phone_drops_short_and_keeps_other_countries(warehouse):
    out = _std(warehouse, phone=["12345", "+1 (415) 555-0100", "415-555-0100", " ", None])
    assert out["phone"].isna().tolist() == [True, False, False, True, True]
    assert out.loc["c1", "phone"] == out.loc["c2", "phone"] == "4155550100"


def test_standardise_email(warehouse):
    out = _std(
        warehouse,
        email=[" Jane.Smith+news@GoogleMail.com", "janesmith@gmail.com", "mailto:a@b.org",
               "no-at-sign", "j.smith@work.co.uk "],
    )  # fmt: skip
    assert out["email"].tolist()[:3] == ["janesmith@gmail.com", "janesmith@gmail.com", "a@b.org"]
    assert pd.isna(out.loc["c3", "email"]) and pd.isna(out.loc["c3", "email_user"])
    assert out.loc["c4", "email"] == "j.smith@work.co.uk"
    assert out.loc["c4", "email_user"] == "j.smith"


@pytest.mark.parametrize(
    ("name", "first", "surname", "full"),
    [
        ("Jane Smith", "jane", "smith", "jane smith"),
        ("  SMITH,  Jane Ann ", "jane", "smith", "jane smith"),
        ("Mrs. Jane O'Brien-Smith", "jane", "smith", "jane smith"),
        ("Dr John Paul Jones Jr", "john", "jones", "john jones"),
        ("José Núñez", "josé", "núñez", "josé núñez"),
        ("Madonna", "madonna", None, "madonna"),
    ],
)
def test_standardise_name_parts(warehouse, name, first, surname, full):
    row = _std(warehouse, name=[name]).iloc[0]
    assert row["first_name"] == first
    assert (pd.isna(row["surname"]) and surname is None) or row["surname"] == surname
    assert row["full_name"] == full


def test_standardise_postcode_address_gender_dates(warehouse):
    out = _std(
        warehouse,
        postcode=["sw1a 1aa", "SW1A-1AA", " "],
        address=["12 High Street", "12, high st.", "Flat 2, 3 North Road"],
        gender=["F", "female", "Other"],
        birth_date=pd.to_datetime(["1980-04-02 13:00", None, "2001-12-31 00:00"]),
    )
    assert out["postcode"].tolist()[:2] == ["SW1A1AA", "SW1A1AA"]
    assert pd.isna(out.loc["c2", "postcode"])
    assert out["address"].tolist() == ["12 high st", "12 high st", "flat 2 3 n rd"]
    assert out["gender"].tolist() == ["f", "f", "x"]
    assert str(out.loc["c0", "birth_date"])[:10] == "1980-04-02"


def test_standardise_reads_string_dates_and_keeps_only_present_columns(warehouse):
    out = _std(warehouse, birth_date=["1980-04-02", "not a date"])
    assert list(out.columns) == ["source_system", "birth_date"]
    assert str(out.loc["c0", "birth_date"])[:10] == "1980-04-02"
    assert pd.isna(out.loc["c1", "birth_date"])
