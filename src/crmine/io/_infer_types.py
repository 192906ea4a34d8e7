"""What ``crmine init --from`` guessed about a file, as plain frozen records.

Every guess carries a confidence between 0 and 1 and a reason a person can check. Reasons name
columns, shares and counts, never a value from the file (privacy).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONFIDENT", "TABLE_CONFIDENT", "ColumnGuess", "DeriveGuess", "FileGuess", "FormatGuess"]

# A column, format or derive guess at or above this is written to crmine.toml; below it, the line
# is written commented out, with its alternatives, for the user to confirm.
CONFIDENT = 0.6
# A file whose best table is below this is written as a commented-out section.
TABLE_CONFIDENT = 0.5


@dataclass(frozen=True)
class ColumnGuess:
    """A raw column guessed to hold a canonical column."""

    canonical: str
    raw: str
    confidence: float
    reason: str
    alternatives: tuple[str, ...] = ()  # other raw columns that could hold it

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT


@dataclass(frozen=True)
class FormatGuess:
    """The strptime format of a timestamp column; ``format`` None means ISO 8601 (no format needed)."""

    canonical: str
    raw: str
    format: str | None
    confidence: float
    reason: str
    alternatives: tuple[str, ...] = ()  # other formats the values fit as well

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT


@dataclass(frozen=True)
class DeriveGuess:
    """A canonical column the file lacks, computed by an expression over the mapped ones."""

    canonical: str
    expression: str
    confidence: float
    reason: str

    @property
    def confident(self) -> bool:
        return self.confidence >= CONFIDENT


@dataclass(frozen=True)
class FileGuess:
    """Everything guessed about one file: how to read it, which table it is, how its columns map.

    ``table`` is None when no table fits at all (the file cannot be read, or nothing matches);
    ``ranking`` holds every table that fits somewhat, best first, with its confidence.
    ``notes`` are facts about the file worth a comment in crmine.toml (guest lines, mixed date
    formats, decimal commas); ``unused`` the raw columns no canonical column takes.
    """

    path: Path
    format: str
    raw_columns: tuple[str, ...]
    rows_sampled: int
    table: str | None
    confidence: float
    reason: str
    ranking: tuple[tuple[str, float], ...] = ()
    format_reason: str = ""
    encoding: str = "utf-8"
    encoding_reason: str = ""
    delimiter: str = ","
    delimiter_reason: str = ""
    sheet: str | None = None
    sheet_reason: str = ""
    columns: tuple[ColumnGuess, ...] = ()
    formats: tuple[FormatGuess, ...] = ()
    derive: tuple[DeriveGuess, ...] = ()
    return_prefix: str | None = None
    return_reason: str = ""
    unused: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def confident(self) -> bool:
        return self.table is not None and self.confidence >= TABLE_CONFIDENT

    @property
    def runner_up(self) -> tuple[str, float] | None:
        """The second-best table and its confidence, if any table came second."""
        others = [(t, c) for t, c in self.ranking if t != self.table]
        return others[0] if others else None

    def column(self, canonical: str) -> ColumnGuess | None:
        """The guess for ``canonical``, confident or not, or None."""
        for c in self.columns:
            if c.canonical == canonical:
                return c
        return None

    def mapped(self) -> set[str]:
        """Canonical columns this file fills with confidence: mapped or derived."""
        out = {c.canonical for c in self.columns if c.confident}
        return out | {d.canonical for d in self.derive if d.confident}
