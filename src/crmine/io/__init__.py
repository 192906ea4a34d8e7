"""Reading sources into the canonical tables: mapping, typing, validation, quarantine."""

from crmine.io._ingest import LOAD_LOG, QUARANTINE, LoadResult, create_tables, ingest
from crmine.io._validate import REASONS

__all__ = ["LOAD_LOG", "QUARANTINE", "REASONS", "LoadResult", "create_tables", "ingest"]
