"""``crmine text ...`` (sentiment, topics) on a CSV/Parquet file of texts: parse, call
:mod:`crmine.text`, write a CSV, summarise. Plain text (no markup), or ``--json``. Never prints a text:
counts, shares and the vocabulary of topics only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from crmine.cli._common import read_table
from crmine.cli._common import ui as _ui

__all__ = ["text_app"]

text_app = typer.Typer(
    help="What customers write: sentiment of each text (VADER) and the topics of a set of texts (NMF), "
         "from a CSV or Parquet file with one text per row.",
    no_args_is_help=True, rich_markup_mode=None)

AsJson = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON summary.")]
File = Annotated[Path, typer.Argument(help="A CSV or Parquet file, one text per row.")]
TextCol = Annotated[str, typer.Option("--text", help="The column holding the texts.")]
IdCol = Annotated[str | None, typer.Option("--id", help="An id column copied to the output (default: a 'row' column, the 1-based data row).")]


def _read(path: Path, columns: dict[str, str | None]):
    """The file with every value as written (ids keep leading zeros; only empty cells are missing)."""
    from crmine.errors import SourceError
    from crmine.text._base import require_columns

    if not path.is_file():
        raise SourceError(f"No file at {path}. Give a CSV or Parquet file with one text per row.")
    frame = read_table(path, dtype=str, keep_default_na=False, na_values=[""])
    require_columns(frame, columns, source=path.name)
    return frame


def _keyed(frame, id_col: str | None):
    """The output's first column: the id column as in the input, or ``row`` (1-based data row)."""
    import pandas as pd

    if id_col is None:
        return pd.DataFrame({"row": range(1, len(frame) + 1)})
    return pd.DataFrame({id_col: frame[id_col].to_numpy()})


def _write_csv(frame, path: Path) -> None:
    from crmine import _atomic

    with _atomic.replacing(path) as tmp:  # a reader never sees half a file
        frame.to_csv(tmp, index=False)


@text_app.command("sentiment")
def text_sentiment(
    file: File, text: TextCol,
    out: Annotated[Path, typer.Option("--out", help="Where to write the scores (CSV): the id (or row), then sentiment.")],
    id_col: IdCol = None, as_json: AsJson = False,
) -> None:
    """Sentiment of each text, from -1 to +1 (VADER's compound score). Blank or missing texts score 0
    and are counted as empty; the shares are over the others (positive above 0.05, negative below -0.05)."""
    from crmine.text import polarity, sentiment
    from crmine.text._base import as_texts

    frame = _read(file, {"text": text, "id": id_col})
    _, empty = as_texts(frame[text])
    scores = sentiment(frame[text])
    table = _keyed(frame, id_col)
    table["sentiment"] = scores
    _write_csv(table, out)
    scored = scores[~empty]
    cls = polarity(scored)
    n = int(scored.size)
    doc: dict[str, Any] = {
        "file": file.name, "n": len(frame), "scored": n, "empty": int(empty.sum()),
        "mean": round(float(scored.mean()), 4) if n else None,
        "positive": round(float((cls > 0).mean()), 4) if n else None,
        "neutral": round(float((cls == 0).mean()), 4) if n else None,
        "negative": round(float((cls < 0).mean()), 4) if n else None,
        "out": str(out),
    }
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    if not n:
        _ui().console.print(f"{len(frame):,} rows, all empty in column {text!r}; written to {out}.")
        return
    _ui().console.print(
        f"{n:,} texts scored ({doc['empty']:,} empty): mean sentiment {doc['mean']:+.3f}; positive {doc['positive']:.1%}, "
        f"neutral {doc['neutral']:.1%}, negative {doc['negative']:.1%}. Written to {out}.")


@text_app.command("topics")
def text_topics(
    file: File, text: TextCol,
    out: Annotated[Path, typer.Option("--out", help="Where to write each text's topics (CSV): id (or row), topic, topic_share, topic_<k>.")],
    id_col: IdCol = None,
    n_topics: Annotated[int | None, typer.Option("--topics", min=1, help="Number of topics (default 8, fewer for a small file).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the fit: the same file and seed give the same topics.")] = 0,
    as_json: AsJson = False,
) -> None:
    """Topics of the texts (NMF on TF-IDF): each topic's top words and size, each text's main topic
    (empty for a blank text or one with no word of the vocabulary) and its share of every topic."""
    import numpy as np

    from crmine.text import topics

    frame = _read(file, {"text": text, "id": id_col})
    found = topics(frame[text], n_topics=n_topics, seed=seed)
    table = _keyed(frame, id_col)
    main = found.main
    table["topic"] = np.where(main > 0, main, np.nan)
    table["topic"] = table["topic"].astype("Int64")
    share = found.shares.to_numpy()
    table["topic_share"] = np.where(main > 0, share.max(axis=1) if share.shape[1] else 0.0, np.nan)
    for c in found.shares.columns:
        table[c] = found.shares[c].to_numpy()
    _write_csv(table, out)
    doc = {
        "file": file.name, "n": len(frame), "without_topic": int((main == 0).sum()), "n_topics": found.n_topics,
        "topics": [{"topic": int(r.topic), "size": int(r.size), "words": list(r.words)} for r in found.words.itertuples()],
        "seed": seed, "out": str(out),
    }
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    _ui().console.print(f"{found.n_topics} topics in {len(frame):,} texts ({doc['without_topic']:,} without one):")
    for t in doc["topics"]:
        _ui().console.print(f"  topic {t['topic']}: {t['size']:,} texts - {', '.join(t['words'])}")
    _ui().console.print(f"Written to {out}.")
