"""Simulate a retailer's CRM data with known ground truth: :func:`simulate`.

The simulator writes raw source files as a company would hand them over (two customer systems with
duplicate persons, orders, campaigns, service contacts, feedback, consents), a ``crmine.toml`` that
maps them to the canonical tables, and ``truth/`` with everything that was planted: BG/NBD and
Gamma-Gamma parameters, segments, churn drivers, elasticities, true uplift, identities, bad rows.

Everything is vectorised with numpy; transactions are generated and written in chunks of customers,
so memory stays flat as ``n_customers`` grows. A fixed seed gives byte-identical files.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from crmine.datasets import _simulate_io as sio
from crmine.datasets import _simulate_orders as so
from crmine.datasets import _simulate_people as sp
from crmine.datasets import _simulate_service as ss
from crmine.datasets import _simulate_truth as st
from crmine.errors import SettingsError

__all__ = ["Simulation", "simulate"]

CHUNK_PERSONS = 50_000
# bad rows planted per file (when bad_rows=True); the count is capped at 5% of a file's rows
BAD_ROW_COUNTS = {
    "transactions": 48,
    "interactions": 24,
    "feedback": 12,
    "campaign_contacts": 12,
    "campaign_responses": 10,
    "consents": 12,
    "crm_customers": 6,
}


@dataclass(frozen=True)
class Simulation:
    """What :func:`simulate` wrote: the workspace folder, counts, source files and truth files."""

    out_dir: Path
    n_customers: int
    n_transactions: int
    files: dict[str, Path] = field(default_factory=dict)
    truth: dict[str, Path] = field(default_factory=dict)


def _day(value, name: str, problems: list[str]) -> np.datetime64 | None:
    try:
        if isinstance(value, _dt.datetime):
            value = value.date()
        return (
            np.datetime64(value, "D")
            if not isinstance(value, str)
            else np.datetime64(value[:10], "D")
        )
    except (ValueError, TypeError):
        problems.append(
            f"{name} must be a date such as '2023-01-01'; got a {type(value).__name__}."
        )
        return None


def simulate(
    n_customers: int = 20_000,
    /,
    *,
    seed: int = 0,
    out_dir: str | os.PathLike,
    start: str | _dt.date = "2023-01-01",
    end: str | _dt.date = "2025-12-31",
    bad_rows: bool = True,
    duplicate_rate: float = 0.06,
    progress: Callable[[str, float], None] | None = None,
) -> Simulation:
    """Write a simulated CRM workspace with known ground truth.

    Parameters
    ----------
    n_customers
        Number of simulated persons (each has one or two customer records); about 20 order lines each.
    seed
        Seed of the random generator; the same seed gives byte-identical files.
    out_dir
        Folder to write ``sources/``, ``truth/`` and ``crmine.toml`` (kept if it already exists).
    start, end
        First and last day of the simulated period.
    bad_rows
        Plant deliberately bad rows, listed in ``truth/bad_rows.csv``.
    duplicate_rate
        Share of persons with a record in both the crm and the web system.
    progress
        Called as ``progress(step, fraction)`` while the simulation runs.

    Returns
    -------
    Simulation
        Paths and counts of what was written.

    Examples
    --------
    >>> import tempfile
    >>> from crmine.datasets import simulate
    >>> sim = simulate(200, seed=1, out_dir=tempfile.mkdtemp())
    >>> sim.n_customers, sorted(sim.files)[:2]
    (200, ['campaign_contacts', 'campaign_responses'])
    >>> (sim.out_dir / "truth" / "params.json").is_file()
    True
    """
    problems: list[str] = []
    if (
        isinstance(n_customers, bool)
        or not isinstance(n_customers, (int, np.integer))
        or n_customers < 100
    ):
        problems.append(f"n_customers must be an integer of at least 100; got {n_customers!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        problems.append(f"seed must be a non-negative integer; got {seed!r}.")
    if not isinstance(duplicate_rate, (int, float)) or not 0 <= duplicate_rate <= 0.5:
        problems.append(f"duplicate_rate must be between 0 and 0.5; got {duplicate_rate!r}.")
    d0, d1 = _day(start, "start", problems), _day(end, "end", problems)
    if d0 is not None and d1 is not None and (d1 - d0).astype(int) < 364:
        problems.append("end must be at least 364 days after start.")
    if problems:
        raise SettingsError("simulate() got invalid arguments: " + " ".join(problems))
    n = int(n_customers)
    report = progress or (lambda step, fraction: None)
    out = Path(out_dir)
    (out / "sources").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    streams = iter(np.random.SeedSequence(int(seed)).spawn(16))

    def rng() -> np.random.Generator:
        return np.random.default_rng(next(streams))

    report("persons", 0.0)
    cal = sp.Calendar(d0, d1)
    P = sp.make_persons(n, rng(), cal, float(duplicate_rate))
    S = ss.plan_service(P, rng(), cal)
    so.plant_purchases(P, rng(), cal)
    n_unref = BAD_ROW_COUNTS["crm_customers"] if bad_rows else 0
    crm, web, identity, crm_unref_rows = sp.make_records(P, rng(), cal, n_unref)
    report("persons", 1.0)

    report("service", 0.0)
    interactions = ss.interactions_table(P, S, rng(), cal)
    feedback, feedback_truth = ss.feedback_tables(P, rng(), cal)
    consents, consent_index = ss.consents_table(P, rng(), cal)
    campaigns, contacts, responses, uplift, campaign_summary = ss.campaigns_tables(
        P, consent_index, rng(), cal
    )
    catalog = so.make_catalog(rng(), cal)
    report("service", 1.0)

    src = out / "sources"
    files = {name: src / s.file for name, s in sio.SOURCES.items()}
    bad: list[tuple[str, int, str, str]] = []
    brng = rng()

    def plan(name: str, kinds: sio.Plan, rows: int) -> sio.Plan:
        count = min(BAD_ROW_COUNTS[name], rows // 20) if bad_rows else 0
        return sio.expand_plan(kinds, count, brng)

    def record(name: str, rows: list[tuple[int, str, str]]) -> None:
        bad.extend((name, line, col, reason) for line, col, reason in rows)

    report("customers", 0.0)
    # crm: a few bad birth dates and incomes, on second records nothing refers to
    crm_bad = []
    if bad_rows and crm_unref_rows.size:
        kinds = [
            ("bad_type", "birth_date", "1985-02-30"),
            ("bad_type", "birth_date", "31/12/1985"),
            ("out_of_range", "income", -5.0),
        ]
        birth = np.asarray(crm.column("birth_date").to_numpy(zero_copy_only=False), dtype=object)
        income = crm.column("income").to_numpy(zero_copy_only=False).astype(np.float64)
        for k, row in enumerate(np.sort(crm_unref_rows)):
            reason, column, value = kinds[k % len(kinds)]
            if column == "birth_date":
                birth[row] = value
            else:
                income[row] = value
            crm_bad.append((int(row) + 2, column, reason))
        crm = crm.set_column(
            crm.schema.get_field_index("birth_date"),
            "birth_date",
            pa.array(birth, type=pa.string()),
        )
        crm = crm.set_column(
            crm.schema.get_field_index("income"), "income", pa.array(income, from_pandas=True)
        )
    sio.write_csv(files["crm_customers"], crm, [], brng, None)
    record("crm_customers", crm_bad)
    with open(files["web_customers"], "wb") as f:
        f.write(sio.render_jsonl(web))
    report("customers", 1.0)

    report("catalog", 0.0)
    for name, table in (
        ("products", catalog.products),
        ("promotions", catalog.promotions),
        ("campaigns", campaigns),
        ("employees", S.employees),
    ):
        sio.write_csv(files[name], table, [], brng, None)
    report("catalog", 1.0)

    report("contacts", 0.0)
    _write_campaign_files(files, contacts, responses, campaigns, consent_index, brng, plan, record)
    n_int = interactions.num_rows
    int_plan = plan(
        "interactions",
        [
            ("missing_required", "customer_id", "customer_id", None),
            ("missing_required", "ts", "ts", None),
            ("out_of_range", "satisfaction", "satisfaction", 9.0),
            ("out_of_range", "duration_s", "duration_s", -30.0),
            ("unknown_reference", "customer_id", "customer_id", lambda r: sio.unknown_id("C", r)),
            ("unknown_reference", "agent_id", "agent_id", lambda r: sio.unknown_id("A", r, 4)),
        ],
        n_int,
    )

    def fresh_interaction(row, k, r):
        row["interaction_id"] = f"I{n_int + k + 1:07d}"

    record(
        "interactions",
        sio.write_parquet(
            files["interactions"],
            interactions,
            sio.fabricate_records(interactions, int_plan, brng, fresh_interaction),
        ),
    )
    n_fb = feedback.num_rows
    fb_plan = plan(
        "feedback",
        [
            ("missing_required", "customer_id", "customer_id", None),
            ("missing_required", "feedback_id", "feedback_id", None),
            ("unknown_reference", "customer_id", "customer_id", lambda r: sio.unknown_id("W", r)),
            ("bad_type", "ts", "ts", "2024-13-45T10:00:00"),
        ],
        n_fb,
    )

    def fresh_feedback(row, k, r):
        row["feedback_id"] = f"F{n_fb + k + 1:07d}"

    record(
        "feedback",
        sio.write_jsonl(
            files["feedback"],
            feedback,
            sio.fabricate_records(feedback, fb_plan, brng, fresh_feedback),
        ),
    )
    absent = consent_index["absent"]
    cons_plan = plan(
        "consents",
        [
            ("missing_required", "granted", "granted", ""),
            ("bad_type", "granted", "granted", "maybe"),
            ("unknown_reference", "customer_id", "customer_id", lambda r: sio.unknown_id("C", r)),
            ("missing_required", "purpose", "purpose", ""),
        ],
        min(consents.num_rows, len(absent) * 20),
    )

    def fresh_consent(fields, k, r):
        fields["customer_id"], fields["purpose"], fields["channel"] = absent[k]

    record("consents", sio.write_csv(files["consents"], consents, cons_plan, brng, fresh_consent))
    report("contacts", 1.0)

    del crm, web, interactions, feedback, consents, contacts, responses  # written: free memory
    report("transactions", 0.0)
    n_tx = _write_transactions(
        P, cal, catalog, files["transactions"], rng(), brng, plan, record, report, n
    )

    report("truth", 0.0)
    truth = st.write_truth(
        out / "truth",
        P,
        cal,
        identity,
        uplift,
        feedback_truth,
        S,
        catalog,
        campaign_summary,
        bad,
        dict(
            n_customers=n,
            seed=int(seed),
            start=str(d0),
            end=str(d1),
            bad_rows=bool(bad_rows),
            duplicate_rate=float(duplicate_rate),
        ),
    )
    toml = out / "crmine.toml"
    if not toml.exists():
        toml.write_text(sio.toml_text(n, int(seed)))
    report("truth", 1.0)
    return Simulation(out_dir=out, n_customers=n, n_transactions=n_tx, files=files, truth=truth)


def _write_transactions(P, cal, catalog, path, rng, brng, plan, record, report, n) -> int:
    """Write transactions.csv chunk by chunk, with bad lines; returns the number of data lines."""
    store_ids = np.array([f"S{i + 1:03d}" for i in range(len(sp.lex.CITIES))])
    bounds = list(range(0, n, CHUNK_PERSONS)) + [n]
    n_chunks = len(bounds) - 1
    kinds: sio.Plan = [
        ("missing_required", "order_id", "order_id", ""),
        # (A line without a customer is a guest sale, and a negative quantity a return: both load.)
        ("bad_type", "ts", "ts", "yesterday"),
        ("missing_required", "ts", "ts", ""),
        ("missing_required", "amount", "amount", ""),
        ("bad_type", "amount", "amount", "12,50€"),
        ("bad_type", "amount", "amount", "abc"),
        ("bad_type", "ts", "ts", "2024-13-45 10:00:00"),
        ("bad_type", "quantity", "qty", "two"),
        ("out_of_range", "amount", "amount", "1000000000"),
        ("out_of_range", "amount", "amount", "-20000000"),
        ("out_of_range", "discount", "discount", "-0.5"),
        ("out_of_range", "discount", "discount", "-5"),
        ("unknown_reference", "customer_id", "customer", lambda r: sio.unknown_id("C", r)),
        ("unknown_reference", "customer_id", "customer", lambda r: sio.unknown_id("W", r)),
        (
            "unknown_reference",
            "product_id",
            "sku",
            lambda r: (
                ("WOM", "MEN", "KID", "HOM", "BEA", "ELE")[int(r.integers(6))]
                + "9"
                + f"{int(r.integers(0, 1000)):03d}"
            ),
        ),
        ("duplicate_key", "order_id,line_no", None, None),
        ("duplicate_key", "order_id,line_no", None, None),
    ]
    # bad lines per chunk, in proportion to its persons; 1-3 malformed lines in the whole file
    full_plan = plan("transactions", kinds, 10**9)
    total = len(full_plan)
    sizes = np.diff(bounds)
    per_chunk = brng.multinomial(total, sizes / sizes.sum()) if total else np.zeros(n_chunks, int)
    plan_start = np.concatenate([[0], np.cumsum(per_chunk)])
    n_malformed = int(brng.integers(1, 4)) if total else 0
    malformed = np.bincount(brng.integers(0, n_chunks, n_malformed), minlength=n_chunks)
    chunk_rngs = [
        np.random.default_rng(s)
        for s in np.random.SeedSequence(int(rng.integers(2**63))).spawn(n_chunks)
    ]
    order_no = 1
    rows_before = 0
    with open(path, "wb") as f:
        for c in range(n_chunks):
            table, order_no = so.transaction_chunk(
                P, bounds[c], bounds[c + 1], chunk_rngs[c], cal, catalog, order_no, store_ids
            )
            if c == 0:
                f.write(sio.csv_header(table))
            body = sio.render_csv(table)
            starts = sio.line_starts(body)
            chunk_plan = full_plan[plan_start[c] : plan_start[c + 1]]
            chunk_plan += [("malformed_row", "", None, "X")] * int(malformed[c])
            chunk_plan = [chunk_plan[i] for i in brng.permutation(len(chunk_plan))]
            first_fresh = order_no

            def fresh(fields, k, r, first=first_fresh):
                fields["order_id"] = f"O{first + k:09d}"
                fields["line_no"] = "1"

            inserts = sio.fabricate_csv(body, starts, table.column_names, chunk_plan, brng, fresh)
            order_no += len(inserts)
            rows = sio.write_with_inserts(f, body, starts, inserts)
            record(
                "transactions",
                [
                    (rows_before + r + 2, ins.column, ins.reason)
                    for r, ins in zip(rows, inserts, strict=True)
                ],
            )
            rows_before += table.num_rows + len(inserts)
            report("transactions", bounds[c + 1] / n)
    return rows_before


def _write_campaign_files(
    files, contacts, responses, campaigns, consent_index, brng, plan, record
) -> None:
    cids = campaigns.column("campaign_id").to_pylist()
    chans = campaigns.column("channel").to_pylist()
    n_c = len(cids)
    contact_camp = np.asarray(
        contacts.column("campaign_id").to_numpy(zero_copy_only=False), dtype=str
    )
    contact_cust = np.asarray(contacts.column("customer").to_numpy(zero_copy_only=False), dtype=str)
    all_ids = np.asarray(consent_index["ids"].to_numpy(zero_copy_only=False), dtype=str)
    uncontacted, contacted = [], []
    for c in range(n_c):
        mine = contact_cust[contact_camp == cids[c]]
        cand = np.unique(all_ids[brng.integers(0, all_ids.size, 40)]) if all_ids.size else all_ids
        uncontacted.append(list(cand[~np.isin(cand, mine)]))
        contacted.append(list(mine[brng.permutation(mine.size)[:3]]))

    def fresh_contact(fields, k, r):
        c = k % n_c
        fields["campaign_id"], fields["channel"] = cids[c], chans[c]
        fields["customer"] = uncontacted[c][k // n_c]

    ok_c = all(len(u) >= 2 for u in uncontacted)
    con_plan = plan(
        "campaign_contacts",
        [
            ("unknown_reference", "customer_id", "customer", lambda r: sio.unknown_id("C", r)),
            (
                "unknown_reference",
                "campaign_id",
                "campaign_id",
                lambda r: "CMP9" + f"{int(r.integers(0, 100)):02d}",
            ),
            ("missing_required", "customer_id", "customer", ""),
            ("out_of_range", "group", "group", "treatmnt"),
            ("missing_required", "group", "group", ""),
        ],
        contacts.num_rows if ok_c else 0,
    )
    record(
        "campaign_contacts",
        sio.write_csv(files["campaign_contacts"], contacts, con_plan, brng, fresh_contact),
    )

    def fresh_response(fields, k, r):
        c = k % n_c
        fields["campaign_id"] = cids[c]
        fields["customer"] = contacted[c][k // n_c]
        fields["response_type"] = "open"

    ok_r = all(len(u) >= 1 for u in contacted) and responses.num_rows > 0
    resp_plan = plan(
        "campaign_responses",
        [
            (
                "unknown_reference",
                "campaign_id",
                "campaign_id",
                lambda r: "CMP9" + f"{int(r.integers(0, 100)):02d}",
            ),
            ("unknown_reference", "customer_id", "customer", lambda r: sio.unknown_id("W", r)),
            ("out_of_range", "value", "value", "1000000000"),
            ("bad_type", "value", "value", "12,50€"),
            ("missing_required", "response_type", "response_type", ""),
        ],
        responses.num_rows if ok_r else 0,
    )
    record(
        "campaign_responses",
        sio.write_csv(files["campaign_responses"], responses, resp_plan, brng, fresh_response),
    )
