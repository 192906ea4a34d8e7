"""Derived columns that cannot be computed on a row quarantine that row, instead of failing the load.

An engine evaluates ``log(quantity - 1000)`` for every row and stops the whole query at the first
row where the argument is not positive (DuckDB), or quietly returns null (Spark). Here the
compiled expression is rewritten before it runs: each operation that has a domain (a logarithm, a
square root, a remainder, a cast, integer arithmetic that can overflow) gets its input guarded,
and a flag says, per row, that an operation met a value outside its domain. The row is then
quarantined as ``derive_failed`` with the derived column's name; every engine agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

__all__ = ["Guarded", "finite", "guarded"]

_INT64_MIN = -(2**63)
_INT64_BOUND = 2.0**63
_DOUBLE_MAX = 1.7976931348623157e308


def finite(x: ir.FloatingValue) -> ir.BooleanValue:
    """True where ``x`` is a finite number (null where it is null).

    Compared with the largest double, since both engines order NaN above every number and infinity
    above that; Ibis' isinf() misses infinities on Spark.
    """
    return x.abs() <= _DOUBLE_MAX


@dataclass(frozen=True)
class Guarded:
    """A derived value that is null where it cannot be computed, and per cause the flag of those rows."""

    value: ir.Value
    failures: tuple[tuple[ir.BooleanValue, str], ...]  # (true on the rows it fails on, why)

    @property
    def failed(self) -> ir.BooleanValue:
        return ibis.or_(*[f for f, _ in self.failures]) if self.failures else ibis.literal(False)


def guarded(value: ir.Value) -> Guarded:
    """``value`` with every operation that can fail on a row guarded, and per-row failure flags."""
    failures: list[tuple[ir.BooleanValue, str]] = []

    def guard(node: ops.Node, kwargs: dict | None) -> ops.Node:
        node = node.copy(**kwargs) if kwargs else node
        if isinstance(node, ops.Ln | ops.Log2 | ops.Log10 | ops.Log):
            return _domain(node, "arg", lambda x: x > 0, "a logarithm of a value that is not above 0", failures)
        if isinstance(node, ops.Sqrt):
            return _domain(node, "arg", lambda x: x >= 0, "a square root of a negative value", failures)
        if isinstance(node, ops.Modulus | ops.FloorDivide):
            return _domain(node, "right", lambda x: x != 0, "a remainder or division by zero", failures)
        if isinstance(node, ops.Cast) and not (node.arg.dtype.is_null() or node.to.is_string()):
            x = node.arg.to_expr()
            out = x.try_cast(node.to)
            failures.append((x.notnull() & out.isnull(), f"a value that cannot be read as {node.to}"))
            return out.op()
        if isinstance(node, ops.Add | ops.Subtract | ops.Multiply) and node.dtype.is_integer():
            return _no_overflow(node, failures)
        if isinstance(node, ops.Negate | ops.Abs) and node.dtype.is_integer():
            return _domain(node, "arg", lambda x: x != _INT64_MIN, "a whole number too large", failures)
        return node

    # Only the expression's own values are rewritten, never the table they read (filter=Value).
    out = value.op().replace(guard, filter=ops.Value).to_expr()
    if out.type().is_floating():
        ok = finite(out)
        failures.append((out.notnull() & ~ok, "a result that is not a finite number"))
        out = ibis.ifelse(ok, out, ibis.null()).cast(out.type())
    by_cause: dict[str, list[ir.BooleanValue]] = {}
    for flag, cause in failures:
        by_cause.setdefault(cause, []).append(flag.fill_null(False))
    return Guarded(out, tuple((ibis.or_(*flags), cause) for cause, flags in by_cause.items()))


def _domain(node: ops.Node, arg: str, ok, cause: str, failures: list) -> ops.Node:
    """``node`` with its input ``arg`` null where ``ok`` is false, recording those rows."""
    x = getattr(node, arg).to_expr()
    good = ok(x)
    failures.append((x.notnull() & ~good.fill_null(False), cause))
    return node.copy(**{arg: ibis.ifelse(good, x, ibis.null()).cast(x.type()).op()})


def _no_overflow(node: ops.Binary, failures: list) -> ops.Node:
    """Integer ``+ - *`` computed only where the exact result fits in 64 bits."""
    left, right = node.left.to_expr(), node.right.to_expr()
    a, b = left.cast("float64"), right.cast("float64")
    approx = {ops.Add: a + b, ops.Subtract: a - b, ops.Multiply: a * b}[type(node)]
    # The float result is within a few units of the exact one; a margin keeps the guard safe.
    fits = approx.abs() < _INT64_BOUND * (1 - 1e-9)
    failures.append((left.notnull() & right.notnull() & ~fits.fill_null(False), "a whole number too large"))
    return node.copy(left=ibis.ifelse(fits, left, ibis.null()).cast(left.type()).op())
