"""Reading sources into the canonical tables: inspection, mapping, typing, validation, quarantine."""

from crmine.io._infer import FileGuess, guess_rows, inspect_file, missing_analyses, settings_text
from crmine.io._ingest import LOAD_LOG, QUARANTINE, LoadResult, create_tables, ingest
from crmine.io._validate import REASONS

__all__ = ["LOAD_LOG", "QUARANTINE", "REASONS", "FileGuess", "LoadResult", "create_tables", "guess_rows",
           "ingest", "inspect_file", "missing_analyses", "settings_text"]
