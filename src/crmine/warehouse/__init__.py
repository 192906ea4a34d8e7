"""The warehouse: connect to DuckDB (default) or Spark and execute Ibis expressions."""

from crmine.warehouse._warehouse import ENGINES, Warehouse, connect

__all__ = ["ENGINES", "Warehouse", "connect"]
