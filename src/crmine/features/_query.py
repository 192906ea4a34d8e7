"""Multi-dimensional questions over the customer table, in the small safe filter language.

``"age between 30 and 40 and income > 50000 and region in ('North', 'East')"`` compiles to an
Ibis filter; the text is never evaluated as Python nor pasted into SQL. A condition that compiles
also runs (see :mod:`crmine._expression`), so every mistake in one is an ExpressionError of one line,
raised here, before the warehouse executes anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from crmine._expression import compile_expression
from crmine.errors import ExpressionError, SchemaError
from crmine.schema import require_columns

__all__ = ["crosstab", "select_customers"]


def select_customers(table: ir.Table, condition: str | None, /) -> ir.Table:
    """The rows of ``table`` for which ``condition`` is true (all rows when it is None or empty)."""
    if condition is None or not condition.strip():
        return table
    cond = compile_expression(condition, table)
    if not cond.type().is_boolean():
        # The condition is not quoted back: it may be long, and may hold values the user typed.
        raise ExpressionError(
            f"The condition gives a {cond.type()} value, not true/false; "
            "compare it with something, e.g. \"income > 50000\"."
        )
    return table.filter(cond)


def crosstab(table: ir.Table, /, by: Sequence[str], *, value: str = "spend") -> ir.Table:
    """Counts and the mean of ``value`` for each combination of the ``by`` columns."""
    by = list(dict.fromkeys(by))  # a column named twice is grouped by once
    if not by:
        raise SchemaError("A cross-tab needs at least one column to group by, e.g. --by gender,education.")
    require_columns(table.columns, [*by, value], where="The customer table",
                    hint="See `crmine dictionary` and `crmine customers build`.")
    dtype = table[value].type()
    if not (dtype.is_numeric() or dtype.is_boolean()):
        raise SchemaError(f"The value averaged in a cross-tab must be a number or true/false; {value!r} is "
                          f"{dtype}. Choose another, e.g. --value spend.")
    return (
        table.group_by(by)
        .aggregate(customers=table.count(), **{f"mean_{value}": table[value].mean()})
        .order_by([ibis.desc("customers"), *by])
    )
