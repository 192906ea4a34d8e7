"""Serving a workspace: the REST API, API keys and roles, real-time scoring of till events."""

from crmine.serve._app import create_app
from crmine.serve._events import TransactionLine
from crmine.serve._keys import RIGHTS, ROLES, create_key, list_keys, revoke_key

__all__ = ["RIGHTS", "ROLES", "TransactionLine", "create_app", "create_key", "list_keys", "revoke_key"]
