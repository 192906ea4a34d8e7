"""Stable unified ids: a customer keeps its id across resolutions, and every change is recorded.

Clustering says which records belong together; it does not say what to call each group. Naming a
group after its smallest member (as a first resolution does) would rename a customer whenever a
record with a smaller id joins or the group splits, breaking every score, list and model keyed by
the old id. So each new cluster inherits the previous id that most of its records carried:

- a cluster whose records all had one id keeps it (new records joining it take it too);
- a merge keeps the id of the largest former customer (ties: the smaller id) and records the
  others as ``merge`` old -> new;
- a split leaves the id with the largest part and records each other part as ``split`` old -> new;
- a previous customer none of whose records remain is recorded as ``retire``;
- a cluster of only new records is named from its smallest record key, as on a first run; a name
  used before is never reused.

The matching of clusters to previous ids is a greedy assignment by shared records (largest first),
which is deterministic and, for the usual small changes between loads, the obvious answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pandas as pd

__all__ = ["CHANGE_COLUMNS", "assign_stable_ids", "fresh_id"]

CHANGE_COLUMNS = ("kind", "old_id", "new_id", "records")


def fresh_id(key: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """``"U"`` and 12 hex digits of SHA-256 of ``key``; re-hashed with a counter if already taken."""
    n, candidate = 0, "U" + hashlib.sha256(key.encode()).hexdigest()[:12]
    while candidate in taken:
        n += 1
        candidate = "U" + hashlib.sha256(f"{key}#{n}".encode()).hexdigest()[:12]
    return candidate


def _record_key(frame: pd.DataFrame) -> pd.Series:
    system = frame["source_system"].fillna("").astype(str)
    return system.where(system == "", system + ":") + frame["customer_id"].astype(str)


def assign_stable_ids(
    clusters: pd.DataFrame,
    previous: pd.DataFrame | None,
    *,
    used: Iterable[str] = (),
) -> tuple[pd.Series, pd.DataFrame]:
    """Name each cluster, keeping previous unified ids where the records say so.

    Parameters
    ----------
    clusters
        One row per record: ``customer_id``, ``source_system`` and ``cluster`` (any label; only which
        records share it matters).
    previous
        The previous lineage, one row per record: ``customer_id``, ``source_system``, ``unified_id``;
        None on a first resolution.
    used
        Every unified id ever issued (from the change history), so that none is reissued.

    Returns
    -------
    (ids, changes)
        ``ids``: the unified id of each row of ``clusters`` (same index). ``changes``: one row per
        merge, split or retirement, columns :data:`CHANGE_COLUMNS`.
    """
    cur = clusters.assign(_key=_record_key(clusters))
    taken = set(used)
    if previous is None or previous.empty:
        prev = pd.DataFrame({"_key": pd.Series(dtype=str), "unified_id": pd.Series(dtype=str)})
    else:
        prev = previous.assign(_key=_record_key(previous))[["_key", "unified_id"]]
    taken |= set(prev["unified_id"])
    joined = cur[["_key", "cluster"]].merge(prev, on="_key", how="left")

    # Which previous id each cluster inherits: greedy by shared records, largest overlap first.
    overlap = (joined.dropna(subset=["unified_id"]).groupby(["cluster", "unified_id"]).size()
               .rename("shared").reset_index()
               .sort_values(["shared", "unified_id", "cluster"], ascending=[False, True, True], kind="mergesort"))
    inherit: dict[object, str] = {}
    owner: dict[str, object] = {}
    for row in overlap.itertuples(index=False):
        if row.cluster not in inherit and row.unified_id not in owner:
            inherit[row.cluster] = row.unified_id
            owner[row.unified_id] = row.cluster

    # Clusters of new records only, and clusters left over from a split or merge, get fresh names
    # from their smallest record key (sorted, so that the naming order does not depend on row order).
    smallest = cur.groupby("cluster")["_key"].min().sort_values(kind="mergesort")
    names: dict[object, str] = {}
    for cluster, key in smallest.items():
        if cluster in inherit:
            names[cluster] = inherit[cluster]
        else:
            names[cluster] = fresh_id(key, taken)
            taken.add(names[cluster])

    changes = []
    for row in overlap.itertuples(index=False):
        new = names[row.cluster]
        if new == row.unified_id:
            continue
        # The previous customer lives on elsewhere (split) or was absorbed here (merge).
        kind = "split" if row.unified_id in owner else "merge"
        changes.append((kind, row.unified_id, new, int(row.shared)))
    gone = set(prev["unified_id"]) - set(joined["unified_id"].dropna())
    changes += [("retire", old, None, 0) for old in sorted(gone)]
    change_frame = pd.DataFrame(changes, columns=list(CHANGE_COLUMNS))
    change_frame["records"] = change_frame["records"].astype("int64")
    return cur["cluster"].map(names).rename("unified_id"), change_frame
