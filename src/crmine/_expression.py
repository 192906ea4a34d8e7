"""A small, safe expression language compiled to Ibis.

Used for derived columns (``income_per_age = "income / age"``) and filters
(``"age between 30 and 40 and region in ('North', 'East')"``). The text is tokenised and parsed
here; nothing is ever evaluated as Python or pasted into SQL: each node becomes an Ibis operation
on a known column, so an unknown name or bad syntax is an error that says where and what was
expected.

Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum [("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") sum
                    | ["not"] "in" "(" literal ("," literal)* ")"
                    | ["not"] "between" sum "and" sum
                    | "is" ["not"] "null"]
    sum     := product (("+" | "-" | "||") product)*
    product := unary (("*" | "/" | "%") unary)*
    unary   := "-" unary | atom
    atom    := number | 'string' | true | false | null | name | name "(" args ")" | "(" expr ")"

Every failure is an :class:`~crmine.errors.ExpressionError` of one line that gives the column
where it happened, the rule and the fix. Hostile text is refused before it can exhaust the parser
or the SQL generator: at most :data:`MAX_LENGTH` characters, :data:`MAX_DEPTH` levels of nesting,
:data:`MAX_TERMS` terms and :data:`MAX_COMPILED_DEPTH` levels of operations once compiled;
whole numbers must fit in 64 bits and decimals must be finite.

What compiles also runs: arithmetic that has no value gives null instead of an engine error, on
every engine. Division and remainder by zero, whole-number results beyond 64 bits and the
logarithm of a number that is not positive are null, the square root of a negative number is NaN,
and text compared with a date must be a date written ``'YYYY-MM-DD'`` (optionally ``HH:MM:SS``).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops

from crmine.errors import ExpressionError

__all__ = [
    "FUNCTIONS",
    "MAX_COMPILED_DEPTH",
    "MAX_COMPILED_SIZE",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_TERMS",
    "compile_expression",
    "referenced_columns",
]

MAX_LENGTH = 10_000
"""The longest expression, in characters."""
MAX_DEPTH = 64
"""The deepest nesting: each '(', function call, 'not' and unary '-' opens one level."""
MAX_TERMS = 200
"""The most terms (column names and values, not counting the values of 'in (...)' lists)."""
MAX_COMPILED_DEPTH = 100
"""The longest chain of operations once compiled; the SQL generators recurse once per level."""
MAX_COMPILED_SIZE = 2_000
"""The most operations once compiled, counting the copies an engine makes (NULLIF copies its argument)."""

_INT64 = (-(2**63), 2**63 - 1)
_ROUND_DIGITS = 30
_TYPES_FIX = "use values of matching types: text in 'quotes', numbers bare, dates as 'YYYY-MM-DD'"
_SPLIT_FIX = "split it into derived columns ([analysis.derived] in crmine.toml) and combine those"

_TOKEN = re.compile(
    r"""(?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+)
      | (?P<string>'(?:[^']|'')*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|!=|<>|==|\|\||[-+*/%(),<>=])""",
    re.VERBOSE,
)
_SPACE = re.compile(r"\s*")
_UNSAFE = re.compile("[\x00\ud800-\udfff]")  # NUL, and lone surrogates from undecodable bytes
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)?")
_KEYWORDS = {"and", "or", "not", "in", "between", "is", "null", "true", "false"}
_COMPARE = {"=": "__eq__", "==": "__eq__", "!=": "__ne__", "<>": "__ne__", "<": "__lt__",
            "<=": "__le__", ">": "__gt__", ">=": "__ge__"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


class _Refused(Exception):
    """Raised by a function for arguments it rejects, with what and the fix; the parser adds where."""

    def __init__(self, what: str, fix: str = "") -> None:
        super().__init__(what)
        self.what, self.fix = what, fix


def _where(pos: int, what: str, fix: str = "") -> str:
    return f"{what} at column {pos + 1} of the expression" + (f"; {fix}" if fix else "")


def _show(text: str) -> str:
    """A token quoted for a message: short, on one line."""
    return repr(text if len(text) <= 30 else text[:27] + "...")


def _tokenise(text: str) -> list[_Tok]:
    bad = _UNSAFE.search(text)
    if bad:
        raise ExpressionError(_where(bad.start(), f"the character {bad.group()!r} cannot be part of an expression",
                                     "remove it (NUL and undecodable bytes are refused)"))
    toks, pos = [], _SPACE.match(text).end()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExpressionError(_unexpected(text, pos))
        kind, value = m.lastgroup, m.group()
        if kind == "name" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        toks.append(_Tok(kind, value, pos))
        pos = _SPACE.match(text, m.end()).end()
    toks.append(_Tok("end", "", len(text)))
    return toks


def _unexpected(text: str, pos: int) -> str:
    ch = text[pos]
    if ch == "'":
        return _where(pos, "unterminated 'quoted text'", "close it with ' (write '' for a quote inside it)")
    if ch == '"':
        return _where(pos, "unexpected character '\"'", "write text in single quotes, e.g. 'North'")
    return _where(pos, f"unexpected character {ch!r}",
                  "names use letters, digits and _, text goes in 'single quotes', "
                  "and the operators are + - * / % || = != < <= > >= ( ) ,")


# -- types --------------------------------------------------------------------------------------
def _kind(value: ibis.Value) -> str:
    """The type of ``value`` in words, for messages."""
    t = value.type()
    if t.is_null():
        return "null"
    if t.is_boolean():
        return "true/false"
    if t.is_integer():
        return "a whole number"
    if t.is_numeric():
        return "a number"
    if t.is_string():
        return "text"
    if t.is_timestamp() or t.is_date():
        return "a date"
    if t.is_interval():
        return "a duration"
    return str(t)


def _is_number(value: ibis.Value) -> bool:
    return value.type().is_numeric()  # booleans are not numeric in Ibis' types


def _is_whole(*values: ibis.Value) -> bool:
    return all(v.type().is_integer() for v in values)


def _need_number(value: ibis.Value, what: str) -> None:
    if not _is_number(value):
        raise _Refused(f"{what} needs a number, not {_kind(value)}", _TYPES_FIX)


def _need_text(value: ibis.Value, what: str) -> None:
    if not (value.type().is_string() or value.type().is_null()):
        raise _Refused(f"{what} needs text, not {_kind(value)}", _TYPES_FIX)


def _literal(value: ibis.Value) -> object:
    """The Python value of a literal, or ``_NOT_LITERAL``."""
    op = value.op()
    return op.value if isinstance(op, ops.Literal) else _NOT_LITERAL


_NOT_LITERAL = object()


# -- arithmetic that gives null rather than an engine error -------------------------------------
# Whole numbers are computed as exact decimals and converted back to 64 bits with try_cast, so a
# result that does not fit is null (every int64 fits in DECIMAL(19, 0), and a product of two in
# DECIMAL(38, 0)). A chain of + and - stays in decimals until its end, one conversion for all.
_WIDE = dt.Decimal(19, 0)


def _wide(value: ibis.Value, *, in_sum: bool) -> ibis.Value:
    op = value.op()
    if (in_sum and isinstance(op, ops.TryCast) and op.to.is_int64()
            and isinstance(op.arg, ops.Add | ops.Subtract) and op.arg.dtype.is_decimal()):
        return op.arg.to_expr()
    return value.cast(_WIDE)


def _arith_operands(op: str, a: ibis.Value, b: ibis.Value) -> None:
    for v in (a, b):
        t = v.type()
        if t.is_string():
            raise _Refused(f"{op!r} does not apply to text", "use || to join text" if op == "+" else _TYPES_FIX)
        if t.is_boolean() or t.is_null():
            raise _Refused(f"{op!r} does not apply to {_kind(v)}", _TYPES_FIX)
        if op in "*/%" and not t.is_numeric():
            raise _Refused(f"{op!r} needs numbers, not {_kind(v)}", _TYPES_FIX)


def _add(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    _arith_operands("+", a, b)
    if _is_whole(a, b):
        return (_wide(a, in_sum=True) + _wide(b, in_sum=True)).try_cast("int64")
    return a + b


def _subtract(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    _arith_operands("-", a, b)
    if _is_whole(a, b):
        return (_wide(a, in_sum=True) - _wide(b, in_sum=True)).try_cast("int64")
    return a - b


def _multiply(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    _arith_operands("*", a, b)
    if _is_whole(a, b):
        return (_wide(a, in_sum=False) * _wide(b, in_sum=False)).try_cast("int64")
    return a * b


def _divide(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    # Division by zero gives null on every engine (Spark's ANSI mode would raise instead).
    _arith_operands("/", a, b)
    return a / b.nullif(0)


def _remainder(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    _arith_operands("%", a, b)
    if _is_whole(a, b):  # in decimals, the smallest int64 % -1 does not overflow
        return (_wide(a, in_sum=False) % _wide(b, in_sum=False).nullif(0)).try_cast("int64")
    return a % b.nullif(0)


def _concat(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    return a.cast("string").concat(b.cast("string"))


def _negate(a: ibis.Value) -> ibis.Value:
    t = a.type()
    if not (t.is_numeric() or t.is_interval()):
        raise _Refused(f"'-' does not apply to {_kind(a)}", _TYPES_FIX)
    return (-_wide(a, in_sum=False)).try_cast("int64") if _is_whole(a) else -a


_BINARY: dict[str, Callable[[ibis.Value, ibis.Value], ibis.Value]] = {
    "+": _add, "-": _subtract, "*": _multiply, "/": _divide, "%": _remainder, "||": _concat,
}


# -- functions ----------------------------------------------------------------------------------
def _abs(x: ibis.Value) -> ibis.Value:
    _need_number(x, "abs()")
    return _wide(x, in_sum=False).abs().try_cast("int64") if _is_whole(x) else x.abs()


def _round(x: ibis.Value, digits: ibis.Value | None = None) -> ibis.Value:
    _need_number(x, "round()")
    n = 0 if digits is None else _literal(digits)
    if isinstance(n, bool) or not isinstance(n, int) or abs(n) > _ROUND_DIGITS:
        raise _Refused("round()'s second argument, the number of decimals, is not a whole number "
                       f"from -{_ROUND_DIGITS} to {_ROUND_DIGITS}", "write e.g. round(spend, 2)")
    if n == 0 and not _is_whole(x):
        # Ibis would cast ROUND(x, 0) to a 64-bit integer, which fails on inf, NaN or 1e300.
        return x.round(ibis.literal(0).cast("int32")).try_cast("int64")
    return x.round(n)


def _log(x: ibis.Value) -> ibis.Value:
    _need_number(x, "log()")
    return ibis.greatest(x, 0).nullif(0).ln()  # null unless positive; x appears once in the SQL


def _sqrt(x: ibis.Value) -> ibis.Value:
    _need_number(x, "sqrt()")
    # x ** 0.5 is NaN for a negative number, as Spark's sqrt (DuckDB's would raise). The explicit
    # cast fixes the type: Ibis would otherwise work out the type of nested powers 2 ** n times.
    return ops.Cast(x**0.5, to=dt.float64).to_expr()


def _text(name: str, build: Callable[[ibis.Value], ibis.Value]) -> Callable[[ibis.Value], ibis.Value]:
    def fn(x: ibis.Value) -> ibis.Value:
        _need_text(x, f"{name}()")
        return build(x.cast("string"))
    return fn


def _date_part(name: str) -> Callable[[ibis.Value], ibis.Value]:
    def fn(x: ibis.Value) -> ibis.Value:
        if not (x.type().is_timestamp() or x.type().is_date()):
            raise _Refused(f"{name}() needs a date, not {_kind(x)}", _TYPES_FIX)
        return getattr(x, name)()
    return fn


def _days_between(a: ibis.Value, b: ibis.Value) -> ibis.Value:
    for x in (a, b):
        t = x.type()
        if not (t.is_timestamp() or t.is_date() or t.is_string() or t.is_null()):
            raise _Refused(f"days_between() needs dates or 'YYYY-MM-DD' text, not {_kind(x)}", _TYPES_FIX)
    # try_cast: text that is not a date gives null rather than an engine error.
    return b.try_cast("timestamp").delta(a.try_cast("timestamp"), unit="day")


# Functions a user may call; each maps Ibis values to an Ibis value.
FUNCTIONS: dict[str, Callable[..., ibis.Value]] = {
    "lower": _text("lower", lambda x: x.lower()),
    "upper": _text("upper", lambda x: x.upper()),
    # Not x.strip(): on Spark, Ibis' TRIM character list would also remove the letter f.
    "trim": _text("trim", lambda x: x.re_replace(r"^\s+|\s+$", "")),
    "length": _text("length", lambda x: x.length()),
    "abs": _abs,
    "round": _round,
    "log": _log,
    "sqrt": _sqrt,
    "coalesce": lambda *xs: ibis.coalesce(*xs),
    "year": _date_part("year"),
    "month": _date_part("month"),
    "day": _date_part("day"),
    "days_between": _days_between,
    "greatest": lambda *xs: ibis.greatest(*xs),
    "least": lambda *xs: ibis.least(*xs),
}


def _arity(fn: Callable[..., ibis.Value]) -> tuple[int, float]:
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return 1, math.inf
    return sum(p.default is p.empty for p in params), len(params)


def _arguments(n: float) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


def _as_time(value: ibis.Value, other: ibis.Value, tok: _Tok) -> ibis.Value:
    """Text compared with a date, made a date here: the engines disagree on what they would parse."""
    t = other.type()
    text = _literal(value)
    if not (isinstance(text, str) and (t.is_timestamp() or t.is_date())):
        return value
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        when = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise ExpressionError(_where(tok.pos, f"the text {_show(text)} compared with a date is not a date",
                                     "write dates as 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'")) from None
    return ibis.literal(when.date() if t.is_date() and when.time() == _dt.time() else when)


def _isolated(value: ibis.Value) -> ibis.Value:
    """A computed true/false value as an operand of a comparison, kept apart by COALESCE(x).

    Ibis writes such operands without parentheses: ``(a between 1 and 2) = true`` would become
    ``a BETWEEN 1 AND 2 = TRUE``, which the engines read differently or not at all.
    """
    if value.type().is_boolean() and not isinstance(value.op(), ops.Field | ops.Literal):
        return ibis.coalesce(value)
    return value


def _balanced(values: list[ibis.Value], combine: Callable[[ibis.Value, ibis.Value], ibis.Value]) -> ibis.Value:
    """Combine ``values`` pairwise, so 100 terms nest 7 deep instead of 100."""
    while len(values) > 1:
        values = [combine(values[i], values[i + 1]) if i + 1 < len(values) else values[i]
                  for i in range(0, len(values), 2)]
    return values[0]


class _Parser:
    def __init__(self, text: str, table: ibis.Table):
        self.text = text
        self.table = table
        self.toks = _tokenise(text)
        self.i = 0
        self.depth = 0
        self.terms = 0
        self.columns: set[str] = set()

    # -- helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def fail(self, what: str, tok: _Tok | None = None):
        tok = tok or self.tok
        found = "the end" if tok.kind == "end" else _show(tok.text)
        close = difflib.get_close_matches(tok.text.lower(), _KEYWORDS, n=1) if tok.kind == "name" else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ExpressionError(_where(tok.pos, f"expected {what}, found {found}{hint}"))

    def accept(self, kind: str, text: str | None = None) -> _Tok | None:
        t = self.tok
        if t.kind == kind and (text is None or t.text == text):
            self.i += 1
            return t
        return None

    def expect(self, kind: str, text: str, what: str) -> _Tok:
        t = self.accept(kind, text)
        if t is None:
            self.fail(what)
        return t

    def enter(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(_where(
                tok.pos, f"nesting deeper than {MAX_DEPTH} levels (MAX_DEPTH)",
                f"each '(', function call, 'not' and unary '-' opens a level: remove redundant ones or {_SPLIT_FIX}",
            ))

    def term(self, tok: _Tok) -> None:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise ExpressionError(_where(
                tok.pos, f"more than {MAX_TERMS} terms (MAX_TERMS: column names and values)",
                f"list many values as x in (...), or {_SPLIT_FIX}",
            ))

    # -- grammar
    def parse(self) -> ibis.Value:
        value = self.or_()
        if self.tok.kind != "end":
            self.fail("an operator or the end")
        return value

    def or_(self):
        return self.logical("or", self.and_, lambda a, b: a | b)

    def and_(self):
        return self.logical("and", self.not_, lambda a, b: a & b)

    def logical(self, word: str, operand, combine):
        start = self.tok
        items = [(start, operand())]
        while self.accept("kw", word):
            start = self.tok
            items.append((start, operand()))
        if len(items) == 1:
            return items[0][1]
        return _balanced([self.boolean(word, t, v) for t, v in items], combine)

    def boolean(self, word: str, tok: _Tok, value: ibis.Value) -> ibis.Value:
        if value.type().is_null():
            return value.cast("boolean")
        if not value.type().is_boolean():
            raise ExpressionError(_where(
                tok.pos, f"{word!r} needs true/false values, found {_kind(value)}",
                "compare it with something, e.g. age > 30",
            ))
        return value

    def not_(self):
        starts = []  # the token after each 'not', where its operand begins
        while t := self.accept("kw", "not"):
            self.enter(t)
            starts.append(self.tok)
        value = self.compare()
        for start in reversed(starts):
            value = ~self.boolean("not", start, value)
        self.depth -= len(starts)
        return value

    def compare(self):
        start = self.tok
        left = self.sum_()
        t = self.tok
        if t.kind == "op" and t.text in _COMPARE:
            self.i += 1
            rstart = self.tok
            right = self.sum_()
            left, right = _as_time(left, right, start), _as_time(right, left, rstart)
            left, right = _isolated(left), _isolated(right)
            return self.typed(lambda a, b: getattr(a, _COMPARE[t.text])(b), t, left, right)
        negate = bool(self.accept("kw", "not"))
        if self.accept("kw", "in"):
            self.expect("op", "(", "'(' after 'in'")
            values = [self.literal(left)]
            while self.accept("op", ","):
                values.append(self.literal(left))
            self.expect("op", ")", "',' or ')' closing the list")
            out = self.typed(lambda a: _isin(a, values), t, _isolated(left))
            return ~out if negate else out
        if self.accept("kw", "between"):
            lstart = self.tok
            lo = _as_time(self.sum_(), left, lstart)
            self.expect("kw", "and", "'and' in 'between ... and ...'")
            hstart = self.tok
            hi = _as_time(self.sum_(), left, hstart)
            out = self.typed(lambda a, b, c: (b <= c, a.between(b, c))[1], t,
                             _isolated(left), _isolated(lo), _isolated(hi))
            return ~out if negate else out
        if negate:
            self.fail("'in' or 'between' after 'not'")
        if self.accept("kw", "is"):
            neg = bool(self.accept("kw", "not"))
            self.expect("kw", "null", "'null' after 'is'")
            left = _isolated(left)
            return left.notnull() if neg else left.isnull()
        return left

    def sum_(self):
        left = self.product()
        while self.tok.kind == "op" and self.tok.text in ("+", "-", "||"):
            t = self.tok
            self.i += 1
            left = self.typed(_BINARY[t.text], t, left, self.product())
        return left

    def product(self):
        left = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/", "%"):
            t = self.tok
            self.i += 1
            left = self.typed(_BINARY[t.text], t, left, self.unary())
        return left

    def unary(self):
        minus = []
        while t := self.accept("op", "-"):
            self.enter(t)
            minus.append(t)
        if minus and self.tok.kind == "number":  # -9223372036854775808 is a literal, not a negation
            t = self.tok
            self.i += 1
            self.term(t)
            value = ibis.literal(self.number(t, negative=True))
            minus.pop()
            self.depth -= 1
        else:
            value = self.atom()
        for t in reversed(minus):
            value = self.typed(_negate, t, value)
        self.depth -= len(minus)
        return value

    def number(self, t: _Tok, *, negative: bool) -> int | float:
        if any(c in t.text for c in ".eE"):
            v = float(t.text)
            if math.isinf(v):
                raise ExpressionError(_where(t.pos, "the number is too large for a 64-bit float (at most about 1.8e308)",
                                             "write a smaller number"))
            return -v if negative else v
        digits = t.text.lstrip("0") or "0"
        v = None if len(digits) > 19 else -int(digits) if negative else int(digits)
        if v is None or not _INT64[0] <= v <= _INT64[1]:
            raise ExpressionError(_where(
                t.pos, f"the whole number is outside the signed 64-bit range ({_INT64[0]} to {_INT64[1]})",
                "write a smaller number, or a decimal such as 1e20",
            ))
        return v

    def literal(self, left: ibis.Value):
        """A value of an 'in (...)' list, as Python (dates when ``left`` is a date)."""
        t = self.tok
        neg = bool(self.accept("op", "-"))
        if neg:
            t = self.tok
        if self.accept("number"):
            return self.number(t, negative=neg)
        if not neg and self.accept("string"):
            value = ibis.literal(t.text[1:-1].replace("''", "'"))
            return _literal(_as_time(value, left, t))
        if not neg and self.accept("kw", "true"):
            return True
        if not neg and self.accept("kw", "false"):
            return False
        self.fail("a number or a 'quoted string'")

    def atom(self):
        t = self.tok
        if t.kind == "number":
            self.i += 1
            self.term(t)
            return ibis.literal(self.number(t, negative=False))
        if t.kind == "string":
            self.i += 1
            self.term(t)
            return ibis.literal(t.text[1:-1].replace("''", "'"))
        if t.kind == "kw" and t.text in ("true", "false", "null"):
            self.i += 1
            self.term(t)
            return ibis.null() if t.text == "null" else ibis.literal(t.text == "true")
        if self.accept("op", "("):
            self.enter(t)
            value = self.or_()
            self.expect("op", ")", "')'")
            self.depth -= 1
            return value
        if self.accept("name"):
            if self.accept("op", "("):
                return self.call(t)
            self.term(t)
            return self.column(t)
        self.fail("a column, a number, a 'string' or '('")

    def call(self, name: _Tok):
        fn = FUNCTIONS.get(name.text.lower())
        if fn is None:
            close = difflib.get_close_matches(name.text.lower(), list(FUNCTIONS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ExpressionError(_where(name.pos, f"unknown function {_show(name.text)}{hint}",
                                         f"the functions are {', '.join(sorted(FUNCTIONS))}"))
        self.enter(name)
        args = []
        if not self.accept("op", ")"):
            args.append(self.or_())
            while self.accept("op", ","):
                args.append(self.or_())
            self.expect("op", ")", "',' or ')' closing the call")
        self.depth -= 1
        lo, hi = _arity(fn)
        if not lo <= len(args) <= hi:
            takes = (_arguments(lo) if lo == hi else f"at least {_arguments(lo)}" if hi == math.inf
                     else f"{lo} to {_arguments(hi)}")
            raise ExpressionError(_where(name.pos, f"{name.text.lower()}() takes {takes}, found {len(args)}"))
        return self.typed(fn, name, *args)

    def column(self, t: _Tok):
        if t.text not in self.table.columns:
            close = difflib.get_close_matches(t.text, list(self.table.columns), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ExpressionError(_where(t.pos, f"unknown column {_show(t.text)}{hint}",
                                         f"the columns are {', '.join(self.table.columns)}"))
        self.columns.add(t.text)
        return self.table[t.text]

    def typed(self, build, tok: _Tok, *args):
        """``build(*args)``, with Ibis' type errors (several exception types) said in one line."""
        try:
            out = build(*args)
        except ExpressionError:
            raise
        except _Refused as e:
            raise ExpressionError(_where(tok.pos, e.what, e.fix)) from None
        except Exception:
            out = None
        if not isinstance(out, ibis.Value):
            kinds = [_kind(a) for a in args] or ["no values"]
            kinds = " and ".join([", ".join(kinds[:-1]), kinds[-1]] if len(kinds) > 1 else kinds)
            raise ExpressionError(_where(tok.pos, f"{_show(tok.text)} does not apply to {kinds}", _TYPES_FIX))
        return out


def _isin(left: ibis.Value, values: list) -> ibis.Value:
    # Ibis lets mixed types through to the engine, which fails while converting; check them here.
    for v in values:
        for a, b, what in ((left, ibis.literal(v), f"cannot be compared with {_kind(left)}"),
                           (ibis.literal(values[0]), ibis.literal(v), "are of different types")):
            try:
                same = isinstance(a == b, ibis.Value)
            except Exception:
                same = False
            if not same:
                raise _Refused(f"the values of 'in (...)' {what}", _TYPES_FIX)
    return left.isin(values)


def _compiled_shape(value: ibis.Value) -> tuple[int, int]:
    """The depth and the size of the operation tree that an engine sees for ``value``.

    Size counts every copy: a shared sub-expression is written out once per use, and DuckDB
    rewrites NULLIF(a, b) as CASE WHEN a = b THEN NULL ELSE a END, with ``a`` twice, so
    NULLIF nested ten deep would cost 2 ** 10 copies.
    """
    shape: dict[ops.Node, tuple[int, int]] = {}
    stack = [(value.op(), False)]
    while stack:
        node, ready = stack.pop()
        kids = [c for c in node.__children__ if isinstance(c, ops.Value)]
        if ready:
            # The values of 'in (...)' are a flat list of literals: they count once, as a list.
            size = 1 + sum(shape[c][1] for c in kids if not (isinstance(node, ops.InValues) and c is not node.value))
            if isinstance(node, ops.NullIf):
                size += shape[node.arg][1]
            shape[node] = (1 + max((shape[c][0] for c in kids), default=0), size)
        elif node not in shape:
            stack.append((node, True))
            stack.extend((c, False) for c in kids if c not in shape)
    return shape[value.op()]


def _parse(text: object, table: ibis.Table) -> tuple[ibis.Value, set[str]]:
    if not isinstance(text, str):
        raise ExpressionError(f"An expression is text, e.g. \"income / age\"; found {type(text).__name__}.")
    if not text.strip():
        raise ExpressionError("Empty expression; write e.g. \"income / age\".")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"The expression is {len(text):,} characters long, more than the limit of "
                              f"{MAX_LENGTH:,} (MAX_LENGTH); shorten it, or {_SPLIT_FIX}.")
    parser = _Parser(text, table)
    value = parser.parse()
    depth, size = _compiled_shape(value)
    if depth > MAX_COMPILED_DEPTH:
        raise ExpressionError(
            f"The expression compiles to {depth} nested operations, more than the limit of "
            f"{MAX_COMPILED_DEPTH} (MAX_COMPILED_DEPTH; each operator of a chain such as a + b + c adds "
            f"one, or two on whole numbers); {_SPLIT_FIX}."
        )
    if size > MAX_COMPILED_SIZE:
        raise ExpressionError(
            f"The expression compiles to {size:,} operations, more than the limit of {MAX_COMPILED_SIZE:,} "
            f"(MAX_COMPILED_SIZE; a division, % or log() copies what is inside it, so nesting them "
            f"doubles the size); {_SPLIT_FIX}."
        )
    return value, parser.columns


def compile_expression(text: str, table: ibis.Table) -> ibis.Value:
    """Compile ``text`` into an Ibis value over the columns of ``table``.

    Examples
    --------
    >>> t = ibis.table({"income": "float64", "age": "int64"}, name="c")
    >>> compile_expression("income / age", t).type()
    Float64(nullable=True)
    """
    return _parse(text, table)[0]


def referenced_columns(text: str, table: ibis.Table) -> set[str]:
    """Column names that ``text`` uses (after checking that it compiles)."""
    return _parse(text, table)[1]
