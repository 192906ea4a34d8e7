"""Lift against a control group: per treatment arm and outcome, the difference of means with its
interval and p-value, the increments it implies, and the campaign's incremental profit and ROI.

An outcome is *binary* when every value is 0 or 1 (or true/false), a *count* when every value is a
non-negative whole number, and *continuous* (money) otherwise. Binary outcomes are compared with
the two-proportion z test and a Newcombe (default) or Wald interval; counts and money with Welch's
t test and a seeded bootstrap (default) or Welch interval (see ``_stats``).

``incremental`` is lift x n: the responses (or revenue) the arm gained over what its customers
would have given without the contact. With ``margin`` (value of one unit of the outcome: one
response, or one unit of revenue as a margin rate) and ``cost`` (of one contact),
``incremental_profit = margin * incremental - cost * n`` and ``roi = incremental_profit / (cost * n)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmine.campaign._stats import (
    BINARY_CIS,
    METHODS,
    Comparison,
    GroupSummary,
    compare_binary,
    compare_means,
    summarise,
)
from crmine.errors import SchemaError, SettingsError

__all__ = ["LIFT_COLUMNS", "arm_labels", "lift_from_summaries", "lift_table", "outcome_kind"]

LIFT_COLUMNS = (
    "arm", "outcome", "kind", "n", "mean", "control_n", "control_mean", "lift", "relative_lift",
    "ci_low", "ci_high", "p_value", "test", "incremental", "incremental_profit", "roi",
)
KINDS = ("binary", "count", "continuous")


def label_text(v: Any) -> str:
    """One text form for an arm label: 1, 1.0, "1" and True are all "1"; text stays as it is."""
    if isinstance(v, bool | np.bool_):
        return "1" if v else "0"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() else repr(float(v))
    return str(v)


def arm_labels(column: pd.Series) -> pd.Series:
    """The arm column as text labels (missing values stay missing)."""
    return column.map(lambda v: v if pd.isna(v) else label_text(v)).astype(object)


def outcome_kind(values: np.ndarray) -> str:
    """binary (only 0 and 1), count (non-negative whole numbers) or continuous."""
    v = np.asarray(values, float)
    if np.isin(v, (0.0, 1.0)).all():
        return "binary"
    if (v >= 0).all() and (v == np.round(v)).all():
        return "count"
    return "continuous"


def check_design(frame: pd.DataFrame, *, arm: str, control: Any, outcomes: Sequence[str],
                 source: str) -> tuple[pd.Series, str, dict[str, np.ndarray]]:
    """The arm labels, the control label and each outcome as floats, or one SchemaError listing
    every problem: missing columns, missing or non-numeric values, no control, one arm only."""
    if not isinstance(frame, pd.DataFrame):
        raise SchemaError(f"A lift needs a pandas DataFrame; received {type(frame).__name__}.")
    if isinstance(outcomes, str) or not outcomes:
        raise SettingsError("outcomes must be a non-empty list of column names, e.g. outcomes=['visit'].")
    cols = list(map(str, frame.columns))
    missing = [c for c in (arm, *outcomes) if c not in cols]
    if missing:
        raise SchemaError(
            f"{source} lacks column(s) {', '.join(missing)}. Existing columns: {', '.join(cols) or '(none)'}. "
            "Name the arm with --arm and each outcome with --outcome.")
    problems = []
    labels = arm_labels(frame[arm])
    if labels.isna().any():
        problems.append(f"arm column {arm!r} is empty on {int(labels.isna().sum())} row(s): every row needs its "
                        "arm (treatment or control); drop the rows that were not part of the test")
    values: dict[str, np.ndarray] = {}
    for col in outcomes:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            s = s.astype(float)
        num = pd.to_numeric(s, errors="coerce")
        bad = int((num.isna() & s.notna()).sum())
        empty = int(s.isna().sum())
        if bad:
            problems.append(f"outcome {col!r} must be numeric (0/1 for a response, a count or an amount); "
                            f"{bad} value(s) are not numbers")
        if empty:
            problems.append(f"outcome {col!r} is empty on {empty} row(s); fill a missing response with 0")
        if not np.isfinite(num.dropna().to_numpy(float)).all():
            problems.append(f"outcome {col!r} holds infinite value(s)")
        values[col] = num.to_numpy(float)
    control_text = label_text(control)
    present = sorted(labels.dropna().unique(), key=str)
    if control_text not in present:
        problems.append(f"control value {control_text!r} does not occur in arm column {arm!r}; its values are "
                        f"{', '.join(map(repr, present[:20]))}{' ...' if len(present) > 20 else ''}. "
                        "Pass one of them with --control")
    elif len(present) < 2:
        problems.append(f"arm column {arm!r} holds one arm only ({control_text!r}); a lift compares treated "
                        "customers with a control group, so the file needs both")
    if problems:
        raise SchemaError(f"{source} cannot be compared: " + "; ".join(problems) + ".")
    return labels, control_text, values


def _economics(margin: float | Mapping[str, float] | None, outcome: str) -> float | None:
    if isinstance(margin, Mapping):
        v = margin.get(outcome)
        return None if v is None else float(v)
    return None if margin is None else float(margin)


def lift_row(arm: str, outcome: str, kind: str, t: GroupSummary, c: GroupSummary, cmp: Comparison, *,
             margin: float | None, cost: float | None) -> dict[str, Any]:
    """One row of the lift table."""
    rel = cmp.lift / c.mean if c.mean != 0 else float("nan")
    incremental = cmp.lift * t.n
    profit = roi = float("nan")
    if margin is not None:
        spent = (cost or 0.0) * t.n
        profit = margin * incremental - spent
        roi = profit / spent if spent > 0 else float("nan")
    return {"arm": arm, "outcome": outcome, "kind": kind, "n": int(t.n), "mean": t.mean,
            "control_n": int(c.n), "control_mean": c.mean, "lift": cmp.lift, "relative_lift": rel,
            "ci_low": cmp.ci_low, "ci_high": cmp.ci_high, "p_value": cmp.p_value, "test": cmp.test,
            "incremental": incremental, "incremental_profit": profit, "roi": roi}


def _check_settings(confidence: float, method: str, binary_ci: str, reps: int, cost: float | None) -> None:
    problems = []
    if not 0 < confidence < 1:
        problems.append(f"confidence must be between 0 and 1; received {confidence!r}")
    if method not in METHODS:
        problems.append(f"method must be one of {', '.join(METHODS)}; received {method!r}")
    if binary_ci not in BINARY_CIS:
        problems.append(f"binary_ci must be one of {', '.join(BINARY_CIS)}; received {binary_ci!r}")
    if not isinstance(reps, int) or reps < 100:
        problems.append(f"reps must be an integer >= 100; received {reps!r}")
    if cost is not None and not (np.isfinite(cost) and cost >= 0):
        problems.append("cost must be a finite number >= 0")
    if problems:
        raise SettingsError("Lift settings are invalid: " + "; ".join(problems) + ".")


def lift_table(frame: pd.DataFrame, /, *, arm: str, control: Any, outcomes: Sequence[str],
               margin: float | Mapping[str, float] | None = None, cost: float | None = None,
               confidence: float = 0.95, method: str = "bootstrap", binary_ci: str = "newcombe",
               reps: int = 2000, seed: int = 0, source: str = "The frame") -> pd.DataFrame:
    """The lift of every treatment arm over the control group, for each outcome.

    Parameters
    ----------
    frame
        One row per customer in the test: the arm column and the outcome columns.
    arm
        Column naming each customer's arm (several treatments allowed).
    control
        The arm value of the control group (matched as text: 0, "0" and 0.0 are one label).
    outcomes
        Numeric outcome columns: 0/1 responses, counts or amounts.
    margin
        Value of one unit of outcome (one number, or one per outcome); gives the profit and ROI.
    cost
        Cost of one contact (with ``margin``).
    confidence
        Level of the intervals.
    method
        Interval for counts and money: "bootstrap" (percentile, seeded) or "welch".
    binary_ci
        Interval for 0/1 outcomes: "newcombe" (hybrid score) or "wald".
    reps, seed
        Bootstrap resamples and their seed.
    source
        How errors name the data (a file name).

    Returns
    -------
    One row per arm and outcome with the columns of ``LIFT_COLUMNS``; arms in text order.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"group": ["t"] * 4 + ["c"] * 4, "bought": [1, 1, 0, 1, 0, 1, 0, 0]})
    >>> t = lift_table(f, arm="group", control="c", outcomes=["bought"], margin=20.0, cost=1.0)
    >>> t[["arm", "n", "mean", "control_mean", "lift", "incremental", "incremental_profit"]].to_dict("records")
    [{'arm': 't', 'n': 4, 'mean': 0.75, 'control_mean': 0.25, 'lift': 0.5, 'incremental': 2.0, 'incremental_profit': 36.0}]
    """
    _check_settings(confidence, method, binary_ci, reps, cost)
    labels, control_text, values = check_design(frame, arm=arm, control=control, outcomes=outcomes,
                                                source=source)
    is_control = (labels == control_text).to_numpy()
    arms = sorted((a for a in labels.unique() if a != control_text), key=str)
    rows = []
    for outcome in outcomes:
        v = values[outcome]
        kind = outcome_kind(v)
        c_values = v[is_control]
        c = summarise(c_values)
        for a in arms:
            t_values = v[(labels == a).to_numpy()]
            t = summarise(t_values)
            if kind == "binary":
                cmp = compare_binary(t, c, confidence=confidence, ci=binary_ci)
            else:
                cmp = compare_means(t_values, c_values, confidence=confidence, method=method, reps=reps, seed=seed)
            rows.append(lift_row(a, outcome, kind, t, c, cmp, margin=_economics(margin, outcome), cost=cost))
    out = pd.DataFrame(rows, columns=list(LIFT_COLUMNS))
    out.attrs.update(control=control_text, confidence=confidence, arm_column=arm)
    return out


def lift_from_summaries(groups: pd.DataFrame, /, *, control: str, margin: float | Mapping[str, float] | None = None,
                        cost: float | None = None, confidence: float = 0.95,
                        binary_ci: str = "newcombe") -> pd.DataFrame:
    """The lift table from per-group summaries (columns arm, outcome, kind, n, mean, var), as the
    warehouse aggregates them: Welch intervals for counts and money, since rows are not at hand."""
    rows = []
    for outcome, g in groups.groupby("outcome", sort=False):
        by_arm = {str(r.arm): r for r in g.itertuples()}
        if control not in by_arm:
            continue
        cr = by_arm[control]
        c = GroupSummary(int(cr.n), float(cr.mean), float(cr.var))
        for a in sorted(k for k in by_arm if k != control):
            r = by_arm[a]
            t = GroupSummary(int(r.n), float(r.mean), float(r.var))
            if r.kind == "binary":
                cmp = compare_binary(t, c, confidence=confidence, ci=binary_ci)
            else:
                cmp = compare_means(t, c, confidence=confidence, method="welch")
            rows.append(lift_row(a, str(outcome), str(r.kind), t, c, cmp, margin=_economics(margin, str(outcome)),
                                 cost=cost))
    return pd.DataFrame(rows, columns=list(LIFT_COLUMNS))
