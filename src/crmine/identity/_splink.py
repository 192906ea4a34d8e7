"""The Splink model: comparisons, blocking rules, training, prediction and clustering.

The model is a Fellegi-Sunter model built from the standardised columns that exist and hold data
(see :mod:`crmine.identity._standardise`): name (first name and surname), e-mail, phone, date of
birth, location (postcode and address as one comparison), gender. Each comparison starts from prior
m and u probabilities, rounded from runs on 20,000 simulated customers; training replaces them when
the table is large enough (:data:`MIN_RECORDS_TO_TRAIN`):

* u (how often a level occurs between two *different* people) by random sampling of record pairs,
  reproducible through ``seed`` (Splink samples by hashing the record ids with the seed);
* m (how often a level occurs between two records of the *same* person) by expectation
  maximisation on pairs blocked on identifiers that rarely agree by chance (e-mail with first
  name, phone with date of birth, date of birth with first name), each comparison trained on a rule
  that does not read its own columns; every m is then floored at :data:`_M_FLOOR`;
* the share of record pairs that match (lambda), from the pairs that agree exactly on e-mail, on
  full name and date of birth, or on phone and surname, with an assumed recall.

A last comparison holds the cannot-link rules (see :func:`_conflict_comparison`) with fixed
parameters. Pairs are scored when they agree on one of :data:`BLOCKING_RULES`; pairs at or above
the threshold are linked and records are clustered by connected components.

Splink logs at WARNING level only (its notices about levels unseen in training are dropped, as the
priors stand in); its messages name columns, rules and counts, never values.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

from crmine.errors import EngineError

__all__ = [
    "BLOCKING_RULES",
    "MIN_RECORDS_TO_TRAIN",
    "SplinkRun",
    "run_splink",
]

# Below this many records the priors are used as they are (see the module docstring).
MIN_RECORDS_TO_TRAIN = 500
# Record pairs sampled to estimate u; capped so that a run stays a few seconds on a laptop.
_U_MAX_PAIRS = 6e5
# Assumed recall of the deterministic rules used to estimate the share of matching pairs.
_DETERMINISTIC_RECALL = 0.7
# Lowest m probability after training (see _regularise).
_M_FLOOR = 0.002
# Fewest record pairs an expectation-maximisation rule must give to be used.
_MIN_EM_PAIRS = 100

# Pairs are scored when they agree on at least one of these (columns that are missing are
# skipped). E-mail or postcode alone let only 84% of true pairs through; names with date of birth,
# phone and postcode recover the records whose e-mail was mistyped or missing.
BLOCKING_RULES: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("phone",),
    ("email_user",),
    ("birth_date", "surname"),
    ("birth_date", "first_name"),
    ("postcode", "surname"),
    ("postcode", "first_name"),
    ("postcode", "birth_date"),
    ("address", "surname"),
    ("address", "first_name"),
    ("first_name", "surname"),
)
# When none of the rules above applies (say only postcode and date of birth were loaded), pairs
# that agree on any one matching column are scored.
_FALLBACK_RULES: tuple[tuple[str, ...], ...] = (
    ("email",), ("phone",), ("birth_date",), ("postcode",), ("address",), ("first_name",),
)  # fmt: skip
# Rules for expectation maximisation, in order of preference: pairs that agree on these are
# mostly matches, so m is learned from a mixture dominated by true matches.
# Family e-mails and landlines make e-mail or phone alone a poor choice: their pairs include
# whole households.
_EM_RULES: tuple[tuple[str, ...], ...] = (
    ("email", "first_name"),
    ("phone", "birth_date"),
    ("birth_date", "first_name"),
    ("email",),
    ("birth_date", "surname"),
    ("phone",),
    ("postcode", "first_name", "surname"),
)
_DETERMINISTIC_RULES: tuple[tuple[str, ...], ...] = (
    ("email",),
    ("first_name", "surname", "birth_date"),
    ("phone", "surname"),
)


@dataclass(frozen=True)
class _Comparison:
    """One comparison: the standardised columns it reads and how to build it."""

    name: str
    columns: tuple[str, ...]
    build: Callable[..., Any]


def _name_comparison(usable: set[str], *, tf: bool) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    if {"first_name", "surname"} <= usable:
        fn, sn = "first_name", "surname"
        exact = cll.ExactMatchLevel("full_name")
        surname_only = cll.ExactMatchLevel(sn)
        if tf:  # common names weigh less, e.g. "john smith" less than "hamish quigley"
            exact.configure(tf_adjustment_column="full_name", tf_adjustment_weight=1.0)
            surname_only.configure(tf_adjustment_column=sn, tf_adjustment_weight=1.0)
        return cl.CustomComparison(
            [
                cll.And(cll.NullLevel(fn), cll.NullLevel(sn)),
                exact,
                cll.ColumnsReversedLevel(fn, sn, symmetrical=True),
                cll.And(cll.JaroWinklerLevel(fn, 0.92), cll.JaroWinklerLevel(sn, 0.92)),
                cll.And(cll.JaroWinklerLevel(fn, 0.8), cll.JaroWinklerLevel(sn, 0.88)),
                surname_only,
                cll.ExactMatchLevel(fn),
                cll.ElseLevel(),
            ],
            output_column_name="name",
        ).configure(
            m_probabilities=[0.68, 0.005, 0.26, 0.02, 0.03, 0.04, 0.005],
            u_probabilities=[6e-5, 1e-6, 8e-6, 7e-5, 0.01, 0.007, 0.983],
        )
    exact = cll.ExactMatchLevel("first_name")
    if tf:
        exact.configure(tf_adjustment_column="first_name", tf_adjustment_weight=1.0)
    return cl.CustomComparison(
        [
            cll.NullLevel("first_name"),
            exact,
            cll.JaroWinklerLevel("first_name", 0.92),
            cll.JaroWinklerLevel("first_name", 0.8),
            cll.ElseLevel(),
        ],
        output_column_name="name",
    ).configure(
        m_probabilities=[0.85, 0.08, 0.03, 0.04], u_probabilities=[0.008, 0.005, 0.01, 0.977]
    )


def _one_slip(col: str) -> Any:
    """Damerau-Levenshtein distance at most 1, computed only where the lengths allow it."""
    import splink.comparison_level_library as cll

    return cll.And(
        cll.CustomLevel(f"abs(length({col}_l) - length({col}_r)) <= 1"),
        cll.DamerauLevenshteinLevel(col, 1),
    ).configure(label_for_charts=f"One slip in {col}")


def _email_comparison(usable: set[str], *, tf: bool) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression

    user = ColumnExpression("email_user")
    return cl.CustomComparison(
        [
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            cll.ExactMatchLevel(user),
            # One slip, not Jaro-Winkler: addresses are built from names, so the e-mails of two
            # namesakes (megan.richardson, meganrichardson22) look alike without being related.
            _one_slip("email"),
            _one_slip("email_user"),
            cll.ElseLevel(),
        ],
        output_column_name="email",
    ).configure(
        m_probabilities=[0.62, 0.06, 0.045, 0.012, 0.26],
        u_probabilities=[3e-6, 8e-6, 3e-5, 8e-5, 0.9999],
    )


def _phone_comparison(usable: set[str], *, tf: bool) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        [
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone"),
            cll.LevenshteinLevel("phone", 2),
            cll.ElseLevel(),
        ],
        output_column_name="phone",
    ).configure(m_probabilities=[0.85, 0.03, 0.12], u_probabilities=[3e-6, 6e-6, 0.99999])


# Typing slips in a date of birth: day and month swapped (04/02 for 02/04), or the year off by one.
_DATE_SLIP_SQL = (
    "(year(birth_date_l) = year(birth_date_r) AND month(birth_date_l) = day(birth_date_r) "
    "AND day(birth_date_l) = month(birth_date_r)) OR (month(birth_date_l) = month(birth_date_r) "
    "AND day(birth_date_l) = day(birth_date_r) AND abs(year(birth_date_l) - year(birth_date_r)) = 1)"
)


def _birth_date_comparison(usable: set[str], *, tf: bool) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression

    as_text = ColumnExpression("birth_date").cast_to_string()
    exact = cll.ExactMatchLevel("birth_date")
    if tf:  # a placeholder such as 2005-01-01, shared by many records, weighs less
        exact.configure(tf_adjustment_column="birth_date", tf_adjustment_weight=1.0)
    return cl.CustomComparison(
        [
            cll.NullLevel("birth_date"),
            exact,
            cll.CustomLevel(_DATE_SLIP_SQL, label_for_charts="Day and month swapped, or year +-1"),
            cll.LevenshteinLevel(as_text, 1),
            cll.AbsoluteDateDifferenceLevel(
                "birth_date", threshold=1, metric="month", input_is_string=False
            ),
            cll.ElseLevel(),
        ],
        output_column_name="birth_date",
    ).configure(
        m_probabilities=[0.94, 0.055, 0.02, 0.005, 0.005],
        u_probabilities=[4e-4, 1.5e-4, 1.6e-3, 2.7e-3, 0.995],
    )


def _location_comparison(usable: set[str], *, tf: bool) -> Any:
    """Postcode and street address as one comparison.

    They are two views of one fact, where someone lives; as two comparisons they would count it
    twice and link people of one household.
    """
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression

    if {"postcode", "address"} <= usable:
        pc, ad = "postcode", "address"
        return cl.CustomComparison(
            [
                cll.And(cll.NullLevel(pc), cll.NullLevel(ad)),
                cll.And(cll.ExactMatchLevel(pc), cll.ExactMatchLevel(ad)),
                cll.And(cll.ExactMatchLevel(pc), cll.JaroWinklerLevel(ad, 0.9)),
                cll.ExactMatchLevel(ad),
                cll.ExactMatchLevel(pc),
                cll.Or(cll.LevenshteinLevel(pc, 1), cll.JaroWinklerLevel(ad, 0.9)),
                cll.ElseLevel(),
            ],
            output_column_name="location",
        ).configure(
            m_probabilities=[0.73, 0.05, 0.05, 0.08, 0.02, 0.07],
            u_probabilities=[1e-5, 1e-4, 8e-6, 3e-5, 1e-3, 0.9988],
        )
    if "postcode" in usable:
        return cl.CustomComparison(
            [
                cll.NullLevel("postcode"),
                cll.ExactMatchLevel("postcode"),
                cll.LevenshteinLevel("postcode", 1),
                cll.ExactMatchLevel(ColumnExpression("postcode").substr(1, 3)),
                cll.ElseLevel(),
            ],
            output_column_name="location",
        ).configure(
            m_probabilities=[0.90, 0.03, 0.02, 0.05], u_probabilities=[5e-4, 1e-3, 4e-3, 0.9945]
        )
    # Levels: exact, JW >= .9, else.
    return cl.JaroWinklerAtThresholds("address", [0.9]).configure(
        m_probabilities=[0.85, 0.10, 0.05], u_probabilities=[5e-4, 2e-3, 0.9975]
    )


# Hard "cannot link" rules. The model assumes that fields agree by chance independently of each
# other, which fails inside a household: spouses, children and twins share the address, often the
# landline or a family e-mail, and twins the date of birth; the first name and the date of birth
# tell them apart. So two records are never linked when their dates of birth clearly differ or
# their first names clearly differ. A clear difference is one that no typing slip explains: dates
# that are not equal, not day and month swapped, not the same day and month in another year, not
# one character apart and not within a month; first names more than one slip apart (Damerau-
# Levenshtein, or Jaro-Winkler below 0.88 for long names) of which neither begins or contains the
# other ("j", "chris", "bella" for "isabella"), nor first and last name swapped. Common nicknames
# ("bob", "liz") were already replaced by their formal names in standardisation.
_VETO_M = 1e-30  # about -100 bits: no other agreement can outweigh it


def _conflict_comparison(usable: set[str], *, tf: bool) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression

    both = "{c}_l IS NOT NULL AND {c}_r IS NOT NULL"
    levels: list[Any] = []
    dob = "birth_date" in usable
    if dob:
        compatible = cll.Or(
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(_DATE_SLIP_SQL),  # day and month swapped, or the year off by one
            cll.CustomLevel(  # any other slip in the year
                "month(birth_date_l) = month(birth_date_r) AND day(birth_date_l) = day(birth_date_r)"
            ),
            cll.LevenshteinLevel(ColumnExpression("birth_date").cast_to_string(), 1),
            cll.AbsoluteDateDifferenceLevel(
                "birth_date", threshold=1, metric="month", input_is_string=False
            ),
        )
        levels.append(
            cll.And(cll.CustomLevel(both.format(c="birth_date")), cll.Not(compatible)).configure(
                label_for_charts="Dates of birth clearly differ"
            )
        )
    if "first_name" in usable:
        names_compatible = [
            cll.DamerauLevenshteinLevel("first_name", 1),  # one slip: "jnae", "jan"
            cll.JaroWinklerLevel("first_name", 0.88),  # slips in a long name: "chrstina"
            # one inside the other: "chris" in "christine", "bella" in "isabella"
            cll.CustomLevel(
                "(length(first_name_r) >= 3 AND instr(first_name_l, first_name_r) > 0) "
                "OR (length(first_name_l) >= 3 AND instr(first_name_r, first_name_l) > 0)"
            ),
            # an initial, or a short form: "j" for "jane", "al" for "alan"
            cll.CustomLevel(
                "substr(first_name_l, 1, length(first_name_r)) = first_name_r "
                "OR substr(first_name_r, 1, length(first_name_l)) = first_name_l"
            ),
        ]
        if "surname" in usable:
            names_compatible.append(
                cll.ColumnsReversedLevel("first_name", "surname", symmetrical=True)
            )
        differ = cll.And(
            cll.CustomLevel(both.format(c="first_name")), cll.Not(cll.Or(*names_compatible))
        )
        levels.append(differ.configure(label_for_charts="First names clearly differ"))
    for level in levels:
        level.configure(
            m_probability=_VETO_M, u_probability=0.5, fix_m_probability=True, fix_u_probability=True
        )
    levels.append(
        cll.ElseLevel().configure(
            m_probability=1.0, u_probability=1.0, fix_m_probability=True, fix_u_probability=True
        )
    )
    # Nothing to check when a first name and a date of birth are each missing on a side.
    unknown = " AND ".join(
        f"({c}_l IS NULL OR {c}_r IS NULL)" for c in ("first_name", "birth_date") if c in usable
    )
    null = cll.CustomLevel(unknown, label_for_charts="Nothing to compare").configure(
        is_null_level=True
    )
    return cl.CustomComparison([null, *levels], output_column_name="conflict")


def _gender_comparison(usable: set[str], *, tf: bool) -> Any:
    import splink.comparison_library as cl

    return cl.ExactMatch("gender").configure(
        m_probabilities=[0.965, 0.035], u_probabilities=[0.5, 0.5]
    )


_COMPARISONS: tuple[_Comparison, ...] = (
    _Comparison("name", ("first_name", "surname"), _name_comparison),
    _Comparison("email", ("email", "email_user"), _email_comparison),
    _Comparison("phone", ("phone",), _phone_comparison),
    _Comparison("birth_date", ("birth_date",), _birth_date_comparison),
    _Comparison("location", ("postcode", "address"), _location_comparison),
    _Comparison("gender", ("gender",), _gender_comparison),
    _Comparison("conflict", ("first_name", "surname", "birth_date"), _conflict_comparison),
)
_FIXED = {"conflict"}  # comparisons whose parameters are set, never trained


def _comparisons_for(usable: set[str]) -> list[_Comparison]:
    # A name needs a first name (a one-word name has no surname); a location needs either of its
    # columns; the cannot-link rules need a first name or a date of birth.
    needs_all = {"name": {"first_name"}}
    needs_any = {"location": {"postcode", "address"}, "conflict": {"first_name", "birth_date"}}
    out = []
    for c in _COMPARISONS:
        if c.name in needs_any:
            ok = bool(needs_any[c.name] & usable)
        else:
            ok = needs_all.get(c.name, set(c.columns)) <= usable
        if ok:
            out.append(c)
    return out


def _rules_for(rules: Sequence[tuple[str, ...]], usable: set[str]) -> list[tuple[str, ...]]:
    return [r for r in rules if set(r) <= usable]


def _prediction_rules(usable: set[str]) -> list[tuple[str, ...]]:
    return _rules_for(BLOCKING_RULES, usable) or _rules_for(_FALLBACK_RULES, usable)


def _rule_label(cols: tuple[str, ...]) -> str:
    return " and ".join(cols)


# Splink modules whose warnings only say that a level was not seen in training, where the prior
# stands in; they are set to ERROR during a run.
_NOTICE_LOGGERS = ("splink.internals.expectation_maximisation", "splink.internals.estimate_u")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Splink at WARNING, its expected notices dropped, and its internal warnings silenced."""
    loggers = [logging.getLogger("splink"), *map(logging.getLogger, _NOTICE_LOGGERS)]
    old = [lg.level for lg in loggers]
    loggers[0].setLevel(logging.WARNING)
    for lg in loggers[1:]:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            # Splink's own DeprecationWarning/FutureWarning about its internals (sqlglot, pandas).
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"splink\.")
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"splink\.")
            yield
    finally:
        for lg, level in zip(loggers, old, strict=True):
            lg.setLevel(level)


@dataclass
class SplinkRun:
    """What a Splink run left behind: physical table names in the engine, and model facts."""

    predictions: str
    clusters: str
    trained: bool
    comparisons: tuple[str, ...]
    blocking_rules: tuple[str, ...]
    probability_two_random_records_match: float
    model: dict[str, Any]
    db_api: Any
    spark_views_before: frozenset[str] | None = None


def _db_api(wh: Any) -> Any:
    if wh.engine == "duckdb":
        from splink import DuckDBAPI

        return DuckDBAPI(connection=wh.duckdb)
    from splink import SparkAPI
    from splink.backends.spark import similarity_jar_location

    session = wh.con._session
    # Splink's string similarity functions (jaro_winkler, ...) live in a jar it ships; a session
    # started without it on spark.jars can still load it.
    session.sql(f"ADD JAR '{similarity_jar_location()}'")
    return SparkAPI(spark_session=session, break_lineage_method="persist")


@contextlib.contextmanager
def plain_codegen(wh: Any) -> Iterator[None]:
    """On Spark, run the standardisation without whole-stage code generation.

    Its string rules make one generated Java method exceed the JVM's 64 KB limit; Spark would log
    the failed compilation as an ERROR and fall back to this mode anyway. (Splink's own queries
    keep code generation, which halves their time; one of them may still log that fallback.)
    """
    if wh.engine != "spark":
        yield
        return
    conf = wh.con._session.conf
    key = "spark.sql.codegen.wholeStage"
    old = conf.get(key, "true")
    conf.set(key, "false")
    try:
        yield
    finally:
        conf.set(key, old)


def _spark_temp_views(db_api: Any) -> frozenset[str]:
    return frozenset(t.name for t in db_api.spark.catalog.listTables() if t.isTemporary)


def _deterministic_pairs(records: ir.Table, rules: list[tuple[str, ...]]) -> ir.IntegerScalar:
    """Number of distinct record pairs that agree exactly on all columns of at least one rule."""
    pairs = None
    for cols in rules:
        side = records.select("unique_id", *cols)
        side = side.filter(*[side[c].notnull() for c in cols])
        other = side.view()
        agree = [side[c] == other[c] for c in cols]
        j = side.join(other, [*agree, side.unique_id < other.unique_id]).select(
            a=side.unique_id, b=other.unique_id
        )
        pairs = j if pairs is None else pairs.union(j, distinct=True)
    return pairs.count()


def _prior_match_share(
    wh: Any, records: ir.Table, usable: set[str], n_records: int, *, trained: bool
) -> float:
    """Probability that two records drawn at random belong to one person (lambda)."""
    n_pairs = max(n_records * (n_records - 1) / 2, 1.0)
    fallback = min(0.5, 0.1 / max(n_records - 1, 1))  # about one duplicate per 20 records
    rules = _rules_for(_DETERMINISTIC_RULES, usable)
    if not trained or not rules:
        return fallback
    found = int(wh.execute(_deterministic_pairs(records, rules), what="count sure matches"))
    if found == 0:
        return fallback
    return min(0.5, found / _DETERMINISTIC_RECALL / n_pairs)


def _regularise(model: dict[str, Any]) -> dict[str, Any]:
    """Floor every m probability, so no single disagreement is ever taken as proof."""
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            m = level.get("m_probability")
            if isinstance(m, int | float) and m < _M_FLOOR and not level.get("fix_m_probability"):
                level["m_probability"] = _M_FLOOR
    return model


def run_splink(
    wh: Any,
    input_table: str,
    *,
    usable: set[str],
    n_records: int,
    threshold: float,
    seed: int,
    step: Callable[[str], None],
) -> SplinkRun:
    """Train, predict and cluster the records of ``input_table`` (standardised, in the engine).

    The caller drops the tables Splink created with :func:`cleanup` once it has read them.
    """
    from splink import Linker, SettingsCreator, block_on

    comparisons = _comparisons_for(usable)
    rules = _prediction_rules(usable)
    trained = n_records >= MIN_RECORDS_TO_TRAIN
    lam = _prior_match_share(wh, wh.table(input_table), usable, n_records, trained=trained)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[c.build(usable, tf=trained) for c in comparisons],
        blocking_rules_to_generate_predictions=[block_on(*r) for r in rules],
        probability_two_random_records_match=lam,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
        em_convergence=1e-4,
        linker_uid="crmine_identity",
    )
    records = wh.table(input_table)

    def count_pairs(rule: tuple[str, ...]) -> int:
        return int(wh.execute(_deterministic_pairs(records, [rule]), what="count training pairs"))

    stage = "connect"
    with _quiet():
        db_api = _db_api(wh)
        run = SplinkRun("", "", trained, tuple(c.name for c in comparisons),
                        tuple(_rule_label(r) for r in rules), lam, {}, db_api)  # fmt: skip
        if wh.engine == "spark":
            run.spark_views_before = _spark_temp_views(db_api)
        try:
            df = db_api.register(input_table, table_name="__crmine_identity_records")
            # log_level=None: Splink leaves logging alone; _quiet() sets its level.
            linker = Linker(df, settings, log_level=None)
            stage = "estimate u"
            step(stage)
            if trained:
                _train(linker, comparisons, usable, n_records=n_records, seed=seed,
                       count_pairs=count_pairs)  # fmt: skip
                run.model = _regularise(linker.misc.save_model_to_json())
                linker = Linker(df, run.model, log_level=None)
            else:
                run.model = linker.misc.save_model_to_json()
            stage = "predict"
            step(stage)
            predictions = linker.inference.predict(
                threshold_match_probability=threshold, warning_mode="never"
            )
            run.predictions = predictions.physical_name
            stage = "cluster"
            step(stage)
            clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=threshold
            )
            run.clusters = clusters.physical_name
        except Exception as e:
            cleanup(run)
            raise EngineError(
                f"Identity resolution failed at step {stage!r} on {wh.engine} "
                f"(table {input_table!r}): {type(e).__name__}: {e}"
            ) from e
    return run


def _train(
    linker: Any,
    comparisons: list[_Comparison],
    usable: set[str],
    *,
    n_records: int,
    seed: int,
    count_pairs: Callable[[tuple[str, ...]], int],
) -> None:
    from splink import block_on

    training = linker.training
    n_pairs = n_records * (n_records - 1) / 2
    training.estimate_u_using_random_sampling(
        max_pairs=min(_U_MAX_PAIRS, n_pairs), seed=seed, min_count_per_level=None, num_chunks=1
    )
    # Train m for every comparison on a rule that does not read its own columns.
    untrained = {c.name for c in comparisons} - _FIXED
    for rule in _rules_for(_EM_RULES, usable):
        teaches = {c.name for c in comparisons if not set(c.columns) & set(rule)}
        if not teaches & untrained or count_pairs(rule) < _MIN_EM_PAIRS:
            continue  # nothing new to learn, or too few pairs to learn it from: priors stay
        training.estimate_parameters_using_expectation_maximisation(
            block_on(*rule), estimate_without_term_frequencies=True
        )
        untrained -= teaches
        if not untrained:
            break


def cleanup(run: SplinkRun) -> None:
    """Drop every table Splink created (the input table belongs to the caller)."""
    with _quiet(), contextlib.suppress(Exception):
        run.db_api.delete_tables_created_by_splink_from_db()
    if run.spark_views_before is not None:
        # On Spark, Splink's results are temporary views, which its cleanup leaves behind.
        catalog = run.db_api.spark.catalog
        for name in _spark_temp_views(run.db_api) - run.spark_views_before:
            if name.startswith("__splink__"):
                with contextlib.suppress(Exception):
                    catalog.dropTempView(name)
