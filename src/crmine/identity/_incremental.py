"""Resolve after a small load: compare the new and changed records with everyone, keep the rest.

A full resolution trains the match model and scores every candidate pair of the whole table. After
a load that adds or edits a few records, nearly all of that work would be repeated to learn what is
already known. So a full resolution also saves its trained model and a fingerprint of each record's
identifying values, and the next resolution:

1. finds the records that are new, whose fingerprint changed, or that were removed;
2. re-opens every earlier multi-record customer that holds a changed or removed record (its links
   may no longer hold), putting all its records among the records to compare;
3. scores those records against every record with the saved model (Splink ``link_only`` between
   the two, the same blocking rules and threshold), keeping the pairs at or above the threshold;
4. joins the results to the untouched customers by connected components: a new record that
   matches a member of a customer joins that customer, and one that matches two customers merges
   them, as a full resolution's clustering would.

A resolution falls back to a full one when no saved model matches the identifying columns or the
threshold, or when more than :data:`MAX_CHANGED_SHARE` of the records changed (a full run then
costs little more, and retrains the model on the new data).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from crmine.errors import EngineError
from crmine.identity import _splink

__all__ = ["MAX_CHANGED_SHARE", "MODEL_TABLE", "STATE_TABLE", "Plan", "fingerprints", "model_frame", "plan", "relink"]

# One row per record resolved last time, with the fingerprint of its identifying values.
STATE_TABLE = "identity_state"
# The match model of the last full resolution (Splink JSON), with the columns and threshold it used.
MODEL_TABLE = "identity_model"
# Above this share of new, changed or removed records, a full resolution is run instead.
MAX_CHANGED_SHARE = 0.2
_DELTA_TABLE = "_crmine_identity_delta"


@dataclass(frozen=True)
class Plan:
    """What an incremental resolution has to do."""

    compare: tuple[str, ...]  # record ids to score against everyone (new, changed, re-opened)
    new: int
    changed: int
    removed: int
    model: dict[str, Any]


def fingerprints(std: ir.Table, columns: list[str]) -> ir.Table:
    """unique_id, source_system and a SHA-256 of the record's identifying values, in the engine."""
    parts = [std[c].cast("string").fill_null("\x1f") for c in columns]
    joined = ibis.literal("\x1e").join(parts) if parts else ibis.literal("")
    return std.select("unique_id", "source_system", fingerprint=joined.hexdigest("sha256"))


def model_frame(model: dict[str, Any], usable: set[str], threshold: float) -> pd.DataFrame:
    """The row saved in :data:`MODEL_TABLE` after a full resolution."""
    return pd.DataFrame({"model": [json.dumps(model)], "columns": [json.dumps(sorted(usable))],
                         "threshold": [float(threshold)]})


def plan(wh: Any, current: pd.DataFrame, lineage: pd.DataFrame | None, *, usable: set[str],
         threshold: float) -> Plan | None:
    """The records to compare, or None when a full resolution is needed (see the module docstring).

    ``current`` holds unique_id and fingerprint of every record now; ``lineage`` the last resolution.
    """
    if lineage is None or not wh.has_table(STATE_TABLE) or not wh.has_table(MODEL_TABLE):
        return None
    saved = wh.execute(wh.table(MODEL_TABLE), what="read the identity model")
    if len(saved) != 1 or set(json.loads(saved["columns"].iloc[0])) != usable \
            or float(saved["threshold"].iloc[0]) != threshold:
        return None
    state = wh.execute(wh.table(STATE_TABLE).select("unique_id", "fingerprint"), what="read identity state")
    before = state.set_index("unique_id")["fingerprint"]
    now = current.set_index("unique_id")["fingerprint"]
    known = now.index.isin(before.index)
    new = now.index[~known]
    changed = now.index[known][now[known].to_numpy() != before.reindex(now.index[known]).to_numpy()]
    removed = before.index[~before.index.isin(now.index)]
    if len(new) + len(changed) + len(removed) > MAX_CHANGED_SHARE * max(len(now), 1):
        return None
    # Earlier customers of several records that lose or change a record are re-opened whole.
    size = lineage.groupby("unified_id")["customer_id"].transform("size")
    touched = lineage.customer_id.isin(set(changed) | set(removed)) & (size > 1)
    reopened = lineage.customer_id[lineage.unified_id.isin(set(lineage.unified_id[touched]))]
    compare = (set(new) | set(changed) | set(reopened)) & set(now.index)
    return Plan(tuple(sorted(compare)), len(new), len(changed), len(removed),
                json.loads(saved["model"].iloc[0]))


def relink(wh: Any, input_table: str, plan: Plan, lineage: pd.DataFrame, *, threshold: float) -> pd.DataFrame:
    """The new lineage (cluster labels in ``unified_id``): the untouched customers as they were, the
    compared records linked to them and to each other by the saved model."""
    records = wh.execute(wh.table(input_table).select("unique_id", "source_system"), what="read records")
    pairs = _score(wh, input_table, plan, threshold) if plan.compare else _no_pairs()
    return _components(records, lineage, set(plan.compare), pairs)


def _no_pairs() -> pd.DataFrame:
    return pd.DataFrame({"l": pd.Series(dtype=object), "r": pd.Series(dtype=object),
                         "p": pd.Series(dtype="float64")})


def _score(wh: Any, input_table: str, plan: Plan, threshold: float) -> pd.DataFrame:
    """Pairs (compared record, any record) at or above ``threshold`` under the saved model."""
    from splink import Linker

    t = wh.table(input_table)
    wh.write(_DELTA_TABLE, t.filter(t.unique_id.isin(list(plan.compare))))
    model = {**plan.model, "link_type": "link_only"}
    db_api = _splink._db_api(wh)
    spark_before = _splink._spark_temp_views(db_api) if wh.engine == "spark" else None
    run = _splink.SplinkRun("", "", True, (), (), float(model.get("probability_two_random_records_match", 0)),
                            model, db_api, spark_before)
    try:
        with _splink._quiet():
            new = db_api.register(_DELTA_TABLE, table_name="__crmine_identity_compared")
            everyone = db_api.register(input_table, table_name="__crmine_identity_everyone")
            linker = Linker([new, everyone], model, log_level=None)
            predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
            p = wh.con.table(predictions.physical_name)
            found = wh.execute(p.select(l=p.unique_id_l.cast("string"), r=p.unique_id_r.cast("string"),
                                        p=p.match_probability.cast("float64")), what="read the new matches")
    except Exception as e:
        raise EngineError(f"Incremental identity resolution failed on {wh.engine} (table {input_table!r}): "
                          f"{type(e).__name__}: {e}") from e
    finally:
        _splink.cleanup(run)
        with contextlib.suppress(Exception):
            wh.drop(_DELTA_TABLE)
    return found[(found.l != found.r) & (found.p >= threshold)].reset_index(drop=True)


def _components(records: pd.DataFrame, lineage: pd.DataFrame, compared: set[str],
                pairs: pd.DataFrame) -> pd.DataFrame:
    """Connected components of: each untouched earlier customer (its records stay together) and the
    new links. One row per record: customer_id, source_system, unified_id (a label), cluster_size,
    match_probability (the best link inside its cluster; null alone)."""
    ids = records.unique_id.astype(str).to_numpy()
    index = pd.Series(np.arange(len(ids)), index=ids)
    kept = lineage[lineage.customer_id.isin(index.index) & ~lineage.customer_id.isin(compared)]
    # Edges: every kept record to the first record of its earlier customer, and every new link.
    first = kept.groupby("unified_id")["customer_id"].transform("first")
    a = np.concatenate([index[kept.customer_id].to_numpy(), index[pairs.l].to_numpy()]).astype(np.int64)
    b = np.concatenate([index[first].to_numpy(), index[pairs.r].to_numpy()]).astype(np.int64)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(ids), len(ids)))
    _, label = connected_components(graph, directed=False)
    out = pd.DataFrame({"customer_id": ids, "source_system": records.source_system.to_numpy(),
                        "unified_id": label.astype(str)})
    out["cluster_size"] = out.groupby("unified_id")["customer_id"].transform("size").astype("int64")
    # The best probability joining a record to its cluster: its earlier one, or a new link's.
    ends = pd.concat([pairs[["l", "p"]].set_axis(["id", "p"], axis=1), pairs[["r", "p"]].set_axis(["id", "p"], axis=1)])
    fresh = out.customer_id.map(ends.groupby("id")["p"].max()).to_numpy(dtype="float64")
    earlier = out.customer_id.map(kept.set_index("customer_id")["match_probability"]).to_numpy(dtype="float64")
    prob = pd.Series(np.fmax(fresh, earlier), index=out.index)  # fmax: a NaN gives way to a number
    out["match_probability"] = prob.where(out.cluster_size > 1)
    return out
