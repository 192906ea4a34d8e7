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
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import ibis

from crmine.errors import ExpressionError

__all__ = ["FUNCTIONS", "compile_expression", "referenced_columns"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)
      | (?P<string>'(?:[^']|'')*')
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|!=|<>|==|\|\||[-+*/%(),<>=])
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "between", "is", "null", "true", "false"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int


def _tokenise(text: str) -> list[_Tok]:
    toks, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            col = len(text) - len(text[pos:].lstrip()) + 1
            raise ExpressionError(_where(text, col - 1, "unexpected character"))
        kind = m.lastgroup
        value = m.group(kind)
        start = m.start(kind)
        if kind == "name" and value.lower() in _KEYWORDS:
            kind, value = "kw", value.lower()
        toks.append(_Tok(kind, value, start))
        pos = m.end()
    toks.append(_Tok("end", "", len(text)))
    return toks


def _where(text: str, pos: int, what: str) -> str:
    return f"{what} at column {pos + 1} of expression {text!r}\n  {text}\n  {' ' * pos}^"


# Functions a user may call; each maps Ibis values to an Ibis value.
FUNCTIONS: dict[str, Callable[..., ibis.Value]] = {
    "lower": lambda x: x.lower(),
    "upper": lambda x: x.upper(),
    # Not x.strip(): on Spark, Ibis' TRIM character list would also remove the letter f.
    "trim": lambda x: x.re_replace(r"^\s+|\s+$", ""),
    "length": lambda x: x.length(),
    "abs": lambda x: x.abs(),
    "round": lambda x, n=0: x.round(int(n.op().value) if hasattr(n, "op") else int(n)),
    "log": lambda x: x.ln(),
    "sqrt": lambda x: x.sqrt(),
    "coalesce": lambda *xs: ibis.coalesce(*xs),
    "year": lambda x: x.year(),
    "month": lambda x: x.month(),
    "day": lambda x: x.day(),
    "days_between": lambda a, b: (b.cast("timestamp").delta(a.cast("timestamp"), "day")),
    "greatest": lambda *xs: ibis.greatest(*xs),
    "least": lambda *xs: ibis.least(*xs),
}


# Division by zero gives null on every engine (Spark's ANSI mode would raise instead).
_BINARY: dict[str, Callable[[ibis.Value, ibis.Value], ibis.Value]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / ibis.ifelse(b == 0, ibis.null(), b),
    "%": lambda a, b: a % b,
    "||": lambda a, b: a.cast("string").concat(b.cast("string")),
}


class _Parser:
    def __init__(self, text: str, table: ibis.Table):
        self.text = text
        self.table = table
        self.toks = _tokenise(text)
        self.i = 0
        self.columns: set[str] = set()

    # -- helpers
    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def fail(self, what: str, tok: _Tok | None = None):
        import difflib

        tok = tok or self.tok
        found = "the end" if tok.kind == "end" else repr(tok.text)
        close = difflib.get_close_matches(tok.text.lower(), _KEYWORDS, n=1) if tok.kind == "name" else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ExpressionError(_where(self.text, tok.pos, f"expected {what}, found {found}{hint}"))

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

    # -- grammar
    def parse(self) -> ibis.Value:
        value = self.or_()
        if self.tok.kind != "end":
            self.fail("an operator or the end")
        return value

    def or_(self):
        left = self.and_()
        while self.accept("kw", "or"):
            left = left | self.and_()
        return left

    def and_(self):
        left = self.not_()
        while self.accept("kw", "and"):
            left = left & self.not_()
        return left

    def not_(self):
        if self.accept("kw", "not"):
            return ~self.not_()
        return self.compare()

    def compare(self):
        left = self.sum_()
        t = self.tok
        ops = {"=": "__eq__", "==": "__eq__", "!=": "__ne__", "<>": "__ne__", "<": "__lt__",
               "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
        if t.kind == "op" and t.text in ops:
            self.i += 1
            right = self.sum_()
            return self._typed(lambda a, b: getattr(a, ops[t.text])(b), t, left, right)
        negate = bool(self.accept("kw", "not"))
        if self.accept("kw", "in"):
            self.expect("op", "(", "'(' after 'in'")
            values = [self.literal()]
            while self.accept("op", ","):
                values.append(self.literal())
            self.expect("op", ")", "',' or ')' closing the list")
            out = self._typed(lambda a: a.isin(values), t, left)
            return ~out if negate else out
        if self.accept("kw", "between"):
            lo = self.sum_()
            self.expect("kw", "and", "'and' in 'between ... and ...'")
            hi = self.sum_()
            out = self._typed(lambda a: a.between(lo, hi), t, left)
            return ~out if negate else out
        if negate:
            self.fail("'in' or 'between' after 'not'")
        if self.accept("kw", "is"):
            neg = bool(self.accept("kw", "not"))
            self.expect("kw", "null", "'null' after 'is'")
            return left.notnull() if neg else left.isnull()
        return left

    def sum_(self):
        left = self.product()
        while self.tok.kind == "op" and self.tok.text in ("+", "-", "||"):
            t = self.tok
            self.i += 1
            left = self._typed(_BINARY[t.text], t, left, self.product())
        return left

    def product(self):
        left = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/", "%"):
            t = self.tok
            self.i += 1
            left = self._typed(_BINARY[t.text], t, left, self.unary())
        return left

    def unary(self):
        t = self.tok
        if self.accept("op", "-"):
            value = self.unary()
            return self._typed(lambda a: -a, t, value)
        return self.atom()

    def literal(self):
        t = self.tok
        neg = bool(self.accept("op", "-"))
        if t.kind == "op" and t.text == "-":
            t = self.tok
        if self.accept("number"):
            v = float(t.text) if any(c in t.text for c in ".eE") else int(t.text)
            return -v if neg else v
        if not neg and self.accept("string"):
            return t.text[1:-1].replace("''", "'")
        if not neg and self.accept("kw", "true"):
            return True
        if not neg and self.accept("kw", "false"):
            return False
        self.fail("a number or a 'quoted string'")

    def atom(self):
        t = self.tok
        if t.kind in ("number", "string") or (t.kind == "kw" and t.text in ("true", "false")):
            return ibis.literal(self.literal())
        if self.accept("kw", "null"):
            return ibis.null()
        if self.accept("op", "("):
            value = self.or_()
            self.expect("op", ")", "')'")
            return value
        if self.accept("name"):
            if self.accept("op", "("):
                return self.call(t)
            return self.column(t)
        self.fail("a column, a number, a 'string' or '('")

    def call(self, name: _Tok):
        fn = FUNCTIONS.get(name.text.lower())
        if fn is None:
            raise ExpressionError(_where(self.text, name.pos, f"unknown function {name.text!r}")
                                  + f"\nFunctions: {', '.join(sorted(FUNCTIONS))}.")
        args = []
        if not self.accept("op", ")"):
            args.append(self.or_())
            while self.accept("op", ","):
                args.append(self.or_())
            self.expect("op", ")", "',' or ')' closing the call")
        return self._typed(fn, name, *args)

    def column(self, t: _Tok):
        if t.text not in self.table.columns:
            import difflib

            close = difflib.get_close_matches(t.text, list(self.table.columns), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ExpressionError(
                _where(self.text, t.pos, f"unknown column {t.text!r}{hint}")
                + f"\nColumns: {', '.join(self.table.columns)}."
            )
        self.columns.add(t.text)
        return self.table[t.text]

    def _typed(self, build, tok: _Tok, *args):
        try:
            return build(*args)
        except ExpressionError:
            raise
        except Exception:  # Ibis signals type mismatches with several exception types
            raise ExpressionError(
                _where(self.text, tok.pos, f"{tok.text!r} does not apply to values of these types")
            ) from None


def compile_expression(text: str, table: ibis.Table) -> ibis.Value:
    """Compile ``text`` into an Ibis value over the columns of ``table``.

    Examples
    --------
    >>> t = ibis.table({"income": "float64", "age": "int64"}, name="c")
    >>> compile_expression("income / age", t).type()
    Float64(nullable=True)
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("Empty expression; write e.g. \"income / age\".")
    return _Parser(text, table).parse()


def referenced_columns(text: str, table: ibis.Table) -> set[str]:
    """Column names that ``text`` uses (after checking that it compiles)."""
    p = _Parser(text, table)
    p.parse()
    return p.columns
