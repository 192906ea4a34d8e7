"""Per-customer features: the customer table and the filter language over it."""

from crmine.features._customer_table import BASE_COLUMNS, customer_table
from crmine.features._query import crosstab, select_customers

__all__ = ["BASE_COLUMNS", "crosstab", "customer_table", "select_customers"]
