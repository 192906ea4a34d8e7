from __future__ import annotations

import ibis
import pandas as pd
import pytest

from crmine._expression import compile_expression, referenced_columns
from crmine.errors import ExpressionError

DATA = pd.DataFrame({
    "income": [50000.0, 20000.0, None, 80000.0],
    "age": [35, 0, 45, 31],
    "region": ["North", "South", "East", None],
})


@pytest.fixture(scope="module")
def t():
    return ibis.memtable(DATA)


def _eval(t, text):
    return ibis.duckdb.connect().execute(t.select(v=compile_expression(text, t))).v.tolist()


def test_arithmetic_and_division_by_zero_is_null(t):
    got = _eval(t, "income / age")
    assert got[0] == pytest.approx(50000 / 35)
    assert pd.isna(got[1]) and pd.isna(got[2])


def test_filter_language(t):
    # SQL logic: a condition on a missing value is unknown (None), and a filter drops it.
    assert _eval(t, "age between 30 and 40 and income > 40000 and region in ('North', 'East')") == [True, False, False, None]
    assert _eval(t, "region is null or not age >= 31") == [False, True, False, True]
    assert _eval(t, "region not in ('North') and lower(region) = 'south'") == [False, True, False, None]


def test_referenced_columns(t):
    assert referenced_columns("income / (age + 1) > 3 and region = 'x'", t) == {"income", "age", "region"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("incme > 3", r"unknown column 'incme' \(did you mean 'income'\?\) at column 1"),
        ("income / ", r"expected a column, a number, a 'string' or '\(', found the end at column 10"),
        ("age between 3", r"expected 'and' in 'between \.\.\. and \.\.\.', found the end"),
        ("evil(age)", r"unknown function 'evil' at column 1"),
        ("age @ 3", r"unexpected character '@' at column 5"),
        ("region + 1", r"'\+' does not apply to text at column 8 of the expression; use \|\| to join text"),
        ("__import__('os')", r"unknown function '__import__'"),
        ("age > 1; drop table people", r"unexpected character ';' at column 8"),
        ("", r"Empty expression"),
    ],
)
def test_errors_say_where_and_what(t, text, message):
    with pytest.raises(ExpressionError, match=message):
        compile_expression(text, t)
