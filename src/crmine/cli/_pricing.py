"""``crmine price choice ...``: the brand-choice (multinomial logit) model on a wide CSV of purchase
occasions. Parse, call :mod:`crmine.pricing`, format. Plain text (no markup), or ``--json``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from crmine.cli._common import ui as _ui

__all__ = ["price_app"]

price_app = typer.Typer(
    help="Pricing on scanner data: the brand-choice model (multinomial logit) with price elasticities.",
    no_args_is_help=True, rich_markup_mode=None)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        if not math.isfinite(v):
            return ""
        if v != 0 and abs(v) < 1e-3:
            return f"{v:.2e}"
        return f"{v:,.4f}"
    if isinstance(v, int):
        return f"{v:,}"
    return "" if v is None else str(v)


@price_app.command("choice")
def price_choice(
    file: Annotated[Path, typer.Argument(help="A CSV/Parquet file, one row per purchase occasion, columns <attribute>.<alternative>.")],
    choice: Annotated[str | None, typer.Option("--choice", help="The column naming the alternative chosen.")] = None,
    attribute: Annotated[list[str] | None, typer.Option("--attribute", help="An attribute with a generic coefficient, e.g. price (repeatable).")] = None,
    id_col: Annotated[str | None, typer.Option("--id", help="Household or occasion id column: carried through, and used for cluster-robust errors.")] = None,
    price: Annotated[str | None, typer.Option("--price", help="The price attribute for elasticities (default: the attribute called price; added to the attributes if missing).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Fit the multinomial logit of brand choice (constants against the first alternative
    alphabetically, generic attribute coefficients) and report the coefficients, fit, shares and
    own- and cross-price share elasticities."""
    from crmine.errors import SettingsError
    from crmine.pricing import ChoiceModel

    if not choice:
        raise SettingsError(f"Say which column of {file.name} names the chosen alternative with --choice COLUMN.")
    if not attribute and not price:
        raise SettingsError("Name at least one attribute with --attribute NAME (e.g. --attribute price "
                            "--attribute feat); its columns are NAME.<alternative>.")
    frame = _ui()._read_table(file)
    model = ChoiceModel(attributes=list(attribute or []), price=price).fit(
        frame, choice=choice, id_column=id_col, source=file.name)
    doc = model.to_dict()
    if id_col is not None:
        doc["id"] = id_col
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    import pandas as pd

    coefs = model.summary().reset_index()
    _ui()._print_frame(coefs, title=f"Multinomial logit of {choice} on {file.name} "
                                    f"(constants against {model.alternatives_[0]})", cell=_cell)
    _ui().console.print(
        f"{model.n_occasions_:,} occasions, {len(model.alternatives_)} alternatives; log-likelihood "
        f"{model.log_likelihood_:,.4f} (equal shares {model.null_log_likelihood_:,.4f}, constants only "
        f"{model.constants_log_likelihood_:,.4f}); McFadden rho2 {model.rho2_:.4f}.")
    table = model.shares_.copy()
    if model.price_ is not None:
        table["own_price_elasticity"] = model.elasticities_
    _ui()._print_frame(table.reset_index(), title="Shares and own-price share elasticities", cell=_cell)
    if model.price_ is not None:
        cross = model.cross_elasticities_
        shown = pd.DataFrame(cross.to_numpy(), columns=[f"price.{m}" for m in cross.columns])
        shown.insert(0, "share_of", list(cross.index))
        _ui()._print_frame(shown, title=f"Share elasticities: share of the row's alternative to the price ({model.price_}) "
                                        "of the column's", cell=_cell)
