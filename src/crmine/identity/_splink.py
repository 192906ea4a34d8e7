"""The Splink model: comparisons, blocking rules, training and prediction.

The model is a Fellegi-Sunter model built from the standardised columns that exist and hold data
(see :mod:`crmine.identity._standardise`). Each comparison starts from prior m and u probabilities
that a run on 20,000 simulated customers learned; training replaces them when the data allow:

* u (how often a level occurs between two *different* people) by random sampling of record pairs,
  reproducible through ``seed`` (Splink samples by hashing the record ids with the seed);
* m (how often a level occurs between two records of the *same* person) by expectation
  maximisation on pairs blocked on identifiers that rarely agree by chance (e-mail, phone, date of
  birth with surname), each comparison trained on a rule that does not use its own columns;
* the share of record pairs that match, from deterministic rules with an assumed recall.

Tables of fewer than :data:`MIN_RECORDS_TO_TRAIN` records keep the priors: a handful of pairs
cannot teach a model anything reliable.

Splink logs at WARNING level only; its messages name columns, rules and counts, never values.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BLOCKING_RULES",
    "MIN_RECORDS_TO_TRAIN",
    "SplinkRun",
    "run_splink",
]

# Below this many records the priors are used as they are (see the module docstring).
MIN_RECORDS_TO_TRAIN = 500
# Record pairs sampled to estimate u; capped so that a run stays a few seconds on a laptop.
_U_MAX_PAIRS = 2e6
# Assumed recall of the deterministic rules used to estimate the share of matching pairs.
_DETERMINISTIC_RECALL = 0.7

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
    ("first_name", "surname"),
)
# Rules for expectation maximisation, in order of preference: pairs that agree on these are
# mostly matches, so m is learned from a mixture dominated by true matches.
_EM_RULES: tuple[tuple[str, ...], ...] = (
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
    build: Callable[[set[str]], Any]


def _name_comparison(usable: set[str]) -> Any:
    import splink.comparison_library as cl

    if {"first_name", "surname"} <= usable:
        # Levels: exact, reversed, both JW >= .92, both JW >= .88, surname, forename, else.
        return cl.ForenameSurnameComparison(
            "first_name", "surname", forename_surname_concat_col_name="full_name"
        ).configure(
            m_probabilities=[0.70, 0.005, 0.12, 0.04, 0.06, 0.05, 0.025],
            u_probabilities=[2e-5, 1e-6, 1e-4, 3e-4, 6e-3, 8e-3, 0.985],
        )
    return cl.NameComparison("first_name", jaro_winkler_thresholds=[0.92, 0.88]).configure(
        m_probabilities=[0.85, 0.08, 0.03, 0.04], u_probabilities=[0.008, 0.005, 0.01, 0.977]
    )


def _email_comparison(usable: set[str]) -> Any:
    import splink.comparison_library as cl

    # Levels: exact, same user, JW >= .88, user JW >= .88, else.
    return cl.EmailComparison("email").configure(
        m_probabilities=[0.75, 0.05, 0.08, 0.02, 0.10],
        u_probabilities=[1e-6, 1e-5, 2e-4, 1e-4, 0.9997],
    )


def _phone_comparison(usable: set[str]) -> Any:
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
    ).configure(m_probabilities=[0.80, 0.05, 0.15], u_probabilities=[1e-5, 5e-4, 0.9995])


def _birth_date_comparison(usable: set[str]) -> Any:
    import splink.comparison_library as cl

    # Levels: exact, one character apart, within a month, a year, ten years, else.
    return cl.DateOfBirthComparison(
        "birth_date",
        input_is_string=False,
        datetime_thresholds=[1, 1, 10],
        datetime_metrics=["month", "year", "year"],
    ).configure(
        m_probabilities=[0.92, 0.03, 0.02, 0.01, 0.01, 0.01],
        u_probabilities=[5e-5, 1e-3, 2e-3, 3e-2, 0.35, 0.617],
    )


def _postcode_comparison(usable: set[str]) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import ColumnExpression

    return cl.CustomComparison(
        [
            cll.NullLevel("postcode"),
            cll.ExactMatchLevel("postcode"),
            cll.LevenshteinLevel("postcode", 1),
            cll.ExactMatchLevel(ColumnExpression("postcode").substr(1, 3)),
            cll.ElseLevel(),
        ],
        output_column_name="postcode",
    ).configure(
        m_probabilities=[0.90, 0.03, 0.02, 0.05], u_probabilities=[5e-4, 1e-3, 4e-3, 0.9945]
    )


def _address_comparison(usable: set[str]) -> Any:
    import splink.comparison_library as cl

    # Levels: exact, JW >= .95, JW >= .85, else.
    return cl.JaroWinklerAtThresholds("address", [0.95, 0.85]).configure(
        m_probabilities=[0.80, 0.10, 0.05, 0.05], u_probabilities=[5e-4, 1e-3, 2e-2, 0.9785]
    )


def _gender_comparison(usable: set[str]) -> Any:
    import splink.comparison_library as cl

    return cl.ExactMatch("gender").configure(
        m_probabilities=[0.98, 0.02], u_probabilities=[0.5, 0.5]
    )


_COMPARISONS: tuple[_Comparison, ...] = (
    _Comparison("name", ("first_name", "surname"), _name_comparison),
    _Comparison("email", ("email",), _email_comparison),
    _Comparison("phone", ("phone",), _phone_comparison),
    _Comparison("birth_date", ("birth_date",), _birth_date_comparison),
    _Comparison("postcode", ("postcode",), _postcode_comparison),
    _Comparison("address", ("address",), _address_comparison),
    _Comparison("gender", ("gender",), _gender_comparison),
)


def _comparisons_for(usable: set[str]) -> list[_Comparison]:
    # The name comparison needs first_name; a surname alone does not make a name comparison.
    out = []
    for c in _COMPARISONS:
        needed = ("first_name",) if c.name == "name" else c.columns
        if set(needed) <= usable:
            out.append(c)
    return out


def _rules_for(rules: Sequence[tuple[str, ...]], usable: set[str]) -> list[tuple[str, ...]]:
    return [r for r in rules if set(r) <= usable]


def _rule_label(cols: tuple[str, ...]) -> str:
    return " and ".join(cols)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Splink at WARNING, and the few warnings Splink raises that crmine cannot act on silenced."""
    logger = logging.getLogger("splink")
    old = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # Splink's own DeprecationWarning/FutureWarning about its internals (sqlglot, pandas).
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"splink\.")
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"splink\.")
            yield
    finally:
        logger.setLevel(old)


@dataclass
class SplinkRun:
    """What a Splink run left behind: physical table names in the engine, and model facts."""

    predictions: str
    clusters: str
    trained: bool
    comparisons: tuple[str, ...]
    blocking_rules: tuple[str, ...]
    probability_two_random_records_match: float
    linker: Any


def _db_api(wh: Any) -> Any:
    if wh.engine == "duckdb":
        from splink import DuckDBAPI

        return DuckDBAPI(connection=wh.duckdb)
    from splink import SparkAPI

    session = getattr(wh.con, "_session", None)
    return SparkAPI(spark_session=session, break_lineage_method="persist")


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

    The caller must drop the tables Splink created, through ``cleanup(run)``, once it has read
    them.
    """
    from splink import Linker, SettingsCreator, block_on

    comparisons = _comparisons_for(usable)
    rules = _rules_for(BLOCKING_RULES, usable)
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[c.build(usable) for c in comparisons],
        blocking_rules_to_generate_predictions=[block_on(*r) for r in rules],
        # A prior of one duplicate per 20 records; replaced by the estimate when training.
        probability_two_random_records_match=min(0.5, 0.1 / max(n_records - 1, 1)),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=25,
        em_convergence=1e-4,
        linker_uid="crmine_identity",
    )
    with _quiet():
        db_api = _db_api(wh)
        df = db_api.register(input_table, table_name="__crmine_identity_records")
        linker = Linker(df, settings, log_level=logging.WARNING)
        trained = n_records >= MIN_RECORDS_TO_TRAIN
        if trained:
            step("estimate u")
            _train(linker, comparisons, usable, n_records=n_records, seed=seed)
        else:
            step("estimate u")
        step("predict")
        predictions = linker.inference.predict(
            threshold_match_probability=threshold, warning_mode="never"
        )
        step("cluster")
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
    lam = linker._settings_obj._probability_two_random_records_match
    return SplinkRun(
        predictions=predictions.physical_name,
        clusters=clusters.physical_name,
        trained=trained,
        comparisons=tuple(c.name for c in comparisons),
        blocking_rules=tuple(_rule_label(r) for r in rules),
        probability_two_random_records_match=float(lam),
        linker=linker,
    )


def _train(
    linker: Any, comparisons: list[_Comparison], usable: set[str], *, n_records: int, seed: int
) -> None:
    from splink import block_on

    training = linker.training
    det = _rules_for(_DETERMINISTIC_RULES, usable)
    if det:
        before = linker._settings_obj._probability_two_random_records_match
        training.estimate_probability_two_random_records_match(
            [block_on(*r) for r in det], recall=_DETERMINISTIC_RECALL
        )
        if not linker._settings_obj._probability_two_random_records_match > 0:
            linker._settings_obj._probability_two_random_records_match = before
    n_pairs = n_records * (n_records - 1) / 2
    training.estimate_u_using_random_sampling(
        max_pairs=min(_U_MAX_PAIRS, n_pairs), seed=seed, min_count_per_level=None, num_chunks=1
    )
    # Train m for every comparison on a rule that does not read its own columns.
    untrained = {c.name for c in comparisons}
    for rule in _rules_for(_EM_RULES, usable):
        teaches = {c.name for c in comparisons if not set(c.columns) & set(rule)}
        if not teaches & untrained:
            continue
        training.estimate_parameters_using_expectation_maximisation(
            block_on(*rule), estimate_without_term_frequencies=True
        )
        untrained -= teaches
        if not untrained:
            break


def cleanup(run: SplinkRun) -> None:
    """Drop every table Splink created (the input table belongs to the caller)."""
    with _quiet(), contextlib.suppress(Exception):
        run.linker.table_management.delete_tables_created_by_splink_from_db()
