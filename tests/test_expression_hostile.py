"""Hostile expressions: each class of abuse is one ExpressionError line; what compiles also runs."""

from __future__ import annotations

import math

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmine._expression import (
    FUNCTIONS,
    MAX_COMPILED_DEPTH,
    MAX_COMPILED_SIZE,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    compile_expression,
    referenced_columns,
)
from crmine.errors import CrmineError, ExpressionError
from crmine.features import select_customers

# Extremes on purpose: the largest and smallest int64, a float near the top of its range, zero,
# negatives, a NaN, text with a quote, and nulls everywhere.
DATA = pd.DataFrame({
    "age": pd.array([35, 0, -7, 2**63 - 1, -(2**63), None], dtype="Int64"),
    "income": [50000.0, 0.0, -1.5, 1e308, float("nan"), None],
    "region": ["North", "it's", "", "2024-01-01", "East", None],
    "joined": pd.to_datetime(["2024-01-01", "2023-05-01 10:30:00", "1970-01-01", "2099-12-31", "2000-02-29", None], format="ISO8601"),
    "vip": pd.array([True, False, True, False, True, None], dtype="boolean"),
})


@pytest.fixture(scope="module")
def t():
    return ibis.memtable(DATA)


@pytest.fixture(scope="module")
def con():
    return ibis.duckdb.connect()


def _run(con, t, text):
    """Compile ``text`` and run it on DuckDB; a filter runs as a filter too."""
    value = compile_expression(text, t)
    out = con.execute(t.select(v=value)).v.tolist()
    if value.type().is_boolean():
        con.execute(select_customers(t, text).count())
    return out


def _one_line(e: Exception) -> str:
    text = str(e)
    assert "\n" not in text and "Traceback" not in text, text
    return text


# -- each class of hostile input, with the message that explains it ----------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        # nesting: parentheses, calls, not and unary minus each open a level
        ("(" * 130 + "age" + ")" * 130, r"nesting deeper than 64 levels \(MAX_DEPTH\) at column 65"),
        ("abs(" * 65 + "age" + ")" * 65, r"nesting deeper than 64 levels \(MAX_DEPTH\) at column 257"),
        ("not " * 65 + "vip", r"nesting deeper than 64 levels \(MAX_DEPTH\) at column 257"),
        ("- " * 65 + "age", r"nesting deeper than 64 levels \(MAX_DEPTH\) at column 129"),
        # terms and length
        (" and ".join(f"age > {i}" for i in range(101)), r"more than 200 terms \(MAX_TERMS: column names and values\) at column 1291"),
        (" or ".join(["vip"] * 201), r"more than 200 terms \(MAX_TERMS"),
        ("age > " + "1" * MAX_LENGTH, r"The expression is 10,006 characters long, more than the limit of 10,000 \(MAX_LENGTH\)"),
        # numbers
        ("age > 9223372036854775808", r"the whole number is outside the signed 64-bit range \(-9223372036854775808 to "
                                      r"9223372036854775807\) at column 7 of the expression; write a smaller number"),
        ("age > -9223372036854775809", r"outside the signed 64-bit range .* at column 8"),
        ("age > " + "9" * 5000, r"outside the signed 64-bit range"),
        ("income > 1e309", r"the number is too large for a 64-bit float \(at most about 1.8e308\) at column 10"),
        ("income > " + "9" * 400 + ".0", r"too large for a 64-bit float"),
        # characters
        ("spend > [/]", r"unexpected character '\[' at column 9 of the expression; names use letters"),
        ("[bold]x", r"unexpected character '\[' at column 1"),
        ("region = \"North\"", r"unexpected character '\"' at column 10 of the expression; write text in single quotes"),
        ("region = 'North", r"unterminated 'quoted text' at column 10 of the expression; close it with '"),
        ("region = 'a\x00b'", r"the character '\\x00' cannot be part of an expression at column 12"),
        ("region = '\udcff'", r"the character '\\udcff' cannot be part of an expression at column 11"),
        ("age > ٣", r"unexpected character '٣' at column 7"),
        # types the engines would reject or convert while running
        ("region > 5", r"'>' does not apply to text and a whole number at column 8 of the expression; use values of matching types"),
        ("region + 1", r"'\+' does not apply to text at column 8 of the expression; use \|\| to join text"),
        ("age in ('a', 'b')", r"the values of 'in \(\.\.\.\)' cannot be compared with a whole number at column 5"),
        ("null in (1, 'a')", r"the values of 'in \(\.\.\.\)' are of different types at column 6"),
        ("null between 'a' and 1", r"'between' does not apply to null, text and a whole number at column 6"),
        ("vip in ('x')", r"cannot be compared with true/false"),
        ("joined > 'today'", r"the text 'today' compared with a date is not a date at column 10 of the expression; "
                             r"write dates as 'YYYY-MM-DD'"),
        ("joined between '20240101' and '2025-01-01'", r"the text '20240101' compared with a date is not a date at column 16"),
        ("joined in ('2024-01-01', 'soon')", r"the text 'soon' compared with a date is not a date at column 26"),
        ("age and vip", r"'and' needs true/false values, found a whole number at column 1"),
        ("vip or region", r"'or' needs true/false values, found text at column 8"),
        ("not income", r"'not' needs true/false values, found a number at column 5"),
        ("abs(vip)", r"abs\(\) needs a number, not true/false at column 1"),
        ("-region", r"'-' does not apply to text at column 1"),
        ("vip * 2", r"'\*' does not apply to true/false at column 5"),
        ("joined * 2", r"'\*' needs numbers, not a date at column 8"),
        ("upper(age)", r"upper\(\) needs text, not a whole number at column 1"),
        ("year(region)", r"year\(\) needs a date, not text at column 1"),
        ("days_between(age, joined)", r"days_between\(\) needs dates or 'YYYY-MM-DD' text, not a whole number"),
        ("coalesce(age, region)", r"'coalesce' does not apply to a whole number and text at column 1"),
        # functions
        ("lower(region, region)", r"lower\(\) takes 1 argument, found 2 at column 1"),
        ("round()", r"round\(\) takes 1 to 2 arguments, found 0"),
        ("greatest()", r"greatest\(\) takes at least 1 argument, found 0"),
        ("round(income, age)", r"round\(\)'s second argument, the number of decimals, is not a whole number from -30 to 30"),
        ("round(income, 31)", r"from -30 to 30"),
        ("lowr(region)", r"unknown function 'lowr' \(did you mean 'lower'\?\) at column 1 of the expression; the functions are abs"),
        ("__import__('os')", r"unknown function '__import__'"),
        # structure
        ("age > 30 and", r"expected a column, a number, a 'string' or '\(', found the end at column 13"),
        ("age > 1; drop table people", r"unexpected character ';' at column 8"),
        ("age in ()", r"expected a number or a 'quoted string', found '\)'"),
        ("age is 3", r"expected 'null' after 'is', found '3'"),
        ("age not like 'x'", r"expected 'in' or 'between' after 'not', found 'like'"),
        ("f" * 100 + " > 1", r"unknown column 'fffffffffffffffffffffffffff\.\.\.' at column 1"),
        ("   ", r"Empty expression"),
    ],
)
def test_hostile_input_is_one_expression_error(t, text, message):
    with pytest.raises(ExpressionError, match=message) as info:
        compile_expression(text, t)
    _one_line(info.value)


def test_not_text_is_refused(t):
    with pytest.raises(ExpressionError, match=r"An expression is text, e.g. \"income / age\"; found int"):
        compile_expression(5, t)


def test_the_limits_themselves_are_accepted(con, t):
    assert _run(con, t, "(" * MAX_DEPTH + "age > 1" + ")" * MAX_DEPTH)[0] is True
    assert _run(con, t, "not " * MAX_DEPTH + "vip")[0] is True
    assert _run(con, t, " or ".join(["vip"] * MAX_TERMS))[0] is True
    assert _run(con, t, "age in (" + ", ".join(["1"] * 3000) + ")")[0] is False  # list values are not terms
    assert _run(con, t, "age > -9223372036854775808")[0] is True
    assert _run(con, t, "9223372036854775807 > age")[0] is True
    assert _run(con, t, "income < 1.7976931348623157e308")[0] is True


def test_compiled_limits_refuse_what_the_sql_generators_cannot_take(t):
    chain = " - ".join(["income"] * (MAX_COMPILED_DEPTH + 1))
    with pytest.raises(ExpressionError, match=r"The expression compiles to 101 nested operations, more than the "
                                              r"limit of 100 \(MAX_COMPILED_DEPTH"):
        compile_expression(chain, t)
    # DuckDB writes NULLIF(a, 0) out as a CASE with a twice: nested divisors double the size each level.
    nested = "1 / (" * 9 + "age" + ")" * 9
    with pytest.raises(ExpressionError, match=rf"The expression compiles to 2,556 operations, more than the limit of "
                                              rf"{MAX_COMPILED_SIZE:,} \(MAX_COMPILED_SIZE"):
        compile_expression(nested, t)


# -- what compiles also runs: arithmetic without a value is null, never an engine error ---------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("age + 9223372036854775807", [None, 9223372036854775807, 9223372036854775800, None, -1, None]),
        ("age * 2", [70, 0, -14, None, None, None]),
        ("-age", [-35, 0, 7, -9223372036854775807, None, None]),
        ("abs(age)", [35, 0, 7, 9223372036854775807, None, None]),
        ("age % -1", [0, 0, 0, 0, 0, None]),
        ("age % 0", [None] * 6),
        ("age - age + age", [35, 0, -7, 9223372036854775807, -9223372036854775808, None]),  # exact to the end
        ("age / 0", [None] * 6),
        ("log(income)", [math.log(50000.0), None, None, math.log(1e308), None, None]),
        ("round(income * 10)", [500000, 0, -15, None, None, None]),
        ("days_between(region, joined)", [None, None, None, 27758, None, None]),  # 2024-01-01 to 2099-12-31
    ],
)
def test_arithmetic_without_a_value_is_null(con, t, text, expected):
    got = [None if pd.isna(v) else v for v in _run(con, t, text)]
    assert [None if v is None else pytest.approx(v) for v in expected] == got


def test_sqrt_of_a_negative_number_is_nan(con, t):
    got = _run(con, t, "sqrt(income)")
    assert got[0] == pytest.approx(math.sqrt(50000.0)) and math.isnan(got[2])


@pytest.mark.parametrize(
    "text",
    [
        "(age between 1 and 40) = true",
        "(vip between (vip or vip) and true) = vip",
        "(age in (35, 0)) is null",
        "(age is null) in (false)",
        "(age > 1) between false and (income > 0)",
    ],
)
def test_true_false_operands_keep_their_parentheses(con, t, text):
    # Ibis writes these without parentheses; COALESCE(x) keeps them apart, so the engine runs them.
    got = _run(con, t, text)
    assert len(got) == len(DATA)


def test_filter_answers_equal_pandas(con, t):
    got = con.execute(select_customers(t, "age between -10 and 40 and not region in ('East')").age).tolist()
    assert sorted(got) == [-7, 0, 35]
    assert referenced_columns("days_between(joined, '2024-02-01') > 30 or vip", t) == {"joined", "vip"}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_nested_to_the_limit_compiles_or_is_refused(con, t, name):
    # Each function, called inside itself MAX_DEPTH times, must neither hang nor raise raw errors.
    arg = {"lower": "region", "upper": "region", "trim": "region", "length": "region", "year": "joined",
           "month": "joined", "day": "joined", "days_between": "joined"}.get(name, "income")
    extra = {"round": ", 1", "days_between": ", joined", "coalesce": ", 1.0", "greatest": ", 1.0", "least": ", 1.0"}
    text = f"{name}(" * MAX_DEPTH + arg + (extra.get(name, "") + ")") * MAX_DEPTH
    try:
        _run(con, t, text)
    except ExpressionError as e:
        _one_line(e)


# -- fuzz: any text either compiles and runs, or is one ExpressionError -------------------------
NAMES = ["age", "income", "region", "joined", "vip", "nope", *sorted(FUNCTIONS), "evil"]
WORDS = ["and", "or", "not", "in", "between", "is", "null", "true", "false", "NOT", "Between"]
NUMBERS = ["0", "1", "-1", "2.5", ".5", "00", "1e308", "1e400", "9223372036854775807", "9223372036854775808",
           "-9223372036854775808", "3e-400", "1.", "12345678901234567890123"]
TEXTS = ["'North'", "'2024-01-01'", "'2024-01-01 10:00:00'", "'it''s'", "''", "'", "'today'", "'[bold]'", "'\\'"]
MARKS = ["(", ")", "[", "]", "/", ",", "+", "-", "*", "%", "||", "=", "==", "!=", "<>", "<", "<=", ">", ">=",
         "@", ";", '"', "\x00", "\udcff", "é", "$", "\n", "[/]", "{", "}", "\\", "--", "/*"]
TOKENS = NAMES + WORDS + NUMBERS + TEXTS + MARKS

_atoms = st.sampled_from(["age", "income", "region", "joined", "vip", "null", "true", *NUMBERS[:10], *TEXTS[:6]])
_ops = st.sampled_from(["+", "-", "*", "/", "%", "||", "=", "!=", "<", ">=", "and", "or"])


def _grow(children):
    return st.one_of(
        st.tuples(children, _ops, children).map(" ".join),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"not {c}"),
        children.map(lambda c: f"-{c}"),
        children.map(lambda c: f"{c} is null"),
        st.tuples(children, children, children).map(lambda c: f"{c[0]} between {c[1]} and {c[2]}"),
        st.tuples(children, st.lists(st.sampled_from([*NUMBERS[:6], *TEXTS[:4], "true"]), min_size=1, max_size=3))
        .map(lambda c: f"{c[0]} not in ({', '.join(c[1])})"),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), st.lists(children, max_size=3))
        .map(lambda c: f"{c[0]}({', '.join(c[1])})"),
    )


MIXED = st.recursive(_atoms, _grow, max_leaves=12)


def _call(name, *args):
    return st.tuples(*args).map(lambda a: f"{name}({', '.join(a)})")


def _infix(left, ops, right):
    return st.tuples(left, st.sampled_from(ops), right).map(" ".join)


# A grammar by type, so that most examples get past the type rules to the engine.
_NUM = st.sampled_from(["age", "income", "0", "1", "2.5", "-1", ".5", "1e308", "9223372036854775807",
                        "-9223372036854775808", "null"])
_TEXT = st.sampled_from(["region", "'North'", "'it''s'", "''", "'2024-01-01'", "'[bold]'", "null"])
_DATE = st.sampled_from(["joined", "'2024-01-01'", "'2024-02-29 10:00:00'", "null"])
_BOOL = st.sampled_from(["vip", "true", "false", "null"])
num = st.deferred(lambda: st.one_of(
    _NUM, _NUM, _NUM, _NUM, _infix(num, ["+", "-", "*", "/", "%"], num), num.map(lambda a: f"-{a}"),
    num.map(lambda a: f"({a})"), st.sampled_from(["abs", "round", "log", "sqrt"]).flatmap(lambda f: _call(f, num)),
    _call("round", num, st.sampled_from(["0", "2", "-1", "30"])), _call("length", text),
    st.sampled_from(["year", "month", "day"]).flatmap(lambda f: _call(f, date)), _call("days_between", date, date),
    st.sampled_from(["greatest", "least", "coalesce"]).flatmap(lambda f: _call(f, num, num)),
))
text = st.deferred(lambda: st.one_of(
    _TEXT, _TEXT, _TEXT, _infix(text, ["||"], st.one_of(text, num, date, boolean)),
    st.sampled_from(["lower", "upper", "trim"]).flatmap(lambda f: _call(f, text)), _call("coalesce", text, text),
))
date = st.deferred(lambda: st.one_of(_DATE, _DATE, _DATE, _call("greatest", date, date), _call("coalesce", date, date)))
_any = st.deferred(lambda: st.one_of(num, text, date, boolean))
boolean = st.deferred(lambda: st.one_of(
    _BOOL, _BOOL,
    _infix(num, ["=", "!=", "<", "<=", ">", ">="], num), _infix(text, ["=", "<>", ">"], text),
    _infix(date, ["=", "<", ">="], date), _infix(boolean, ["and", "or", "="], boolean),
    boolean.map(lambda a: f"not {a}"), boolean.map(lambda a: f"({a})"),
    st.tuples(num, num, num).map(lambda a: f"{a[0]} between {a[1]} and {a[2]}"),
    st.tuples(date, date, date).map(lambda a: f"{a[0]} not between {a[1]} and {a[2]}"),
    st.tuples(_any, st.lists(st.sampled_from(["1", "-2.5", "'North'", "'2024-01-01'", "true"]), min_size=1, max_size=3))
    .map(lambda a: f"{a[0]} in ({', '.join(a[1])})"),
    _any.map(lambda a: f"({a}) is not null"),
    _infix(_any, ["=", "<", "+", "||", "and"], _any),
))
# Expressions: mostly well typed, to reach the engine, or mixed, to reach the type rules ...
STRUCTURED = st.one_of(boolean, boolean, num, text, date, MIXED)
# ... and token soup, with and without spaces, to reach the tokeniser and the parser.
SOUP = st.tuples(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25), st.sampled_from([" ", ""])).map(
    lambda p: p[1].join(p[0]))
FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _compiles_and_runs_or_refuses(con, t, text):
    try:
        value = compile_expression(text, t)
    except CrmineError as e:
        assert isinstance(e, ExpressionError), type(e)
        _one_line(e)
        return
    con.execute(t.select(v=value))  # anything the engine raises here is a bug
    if value.type().is_boolean():
        con.execute(select_customers(t, text).count())


@FUZZ
@given(text=STRUCTURED)
def test_fuzz_structured_expressions_run_or_refuse(con, t, text):
    _compiles_and_runs_or_refuses(con, t, text)


@FUZZ
@given(text=SOUP)
def test_fuzz_token_soup_runs_or_refuses(con, t, text):
    _compiles_and_runs_or_refuses(con, t, text)
