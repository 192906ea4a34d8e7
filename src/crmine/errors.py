"""The one error tree of crmine.

Every error crmine raises on purpose derives from :class:`CrmineError`, and also from the builtin
that a caller would naturally catch, so ``except ValueError`` keeps working::

    CrmineError
    ├── SettingsError (ValueError)        crmine.toml is wrong
    ├── SchemaError (ValueError)          columns missing or of the wrong type
    ├── SourceError (ValueError)          a source file or table cannot be read
    ├── WorkspaceError (FileNotFoundError) no workspace at the path, or not initialised
    ├── ExpressionError (ValueError)      a derived-column or filter expression is malformed
    ├── EngineError (RuntimeError)        the warehouse engine failed (wraps the engine's error)
    ├── DependencyError (ImportError)     an optional dependency is not installed
    ├── NotFittedError (ValueError, AttributeError)
    ├── ConvergenceError (RuntimeError)   a model fit did not converge
    └── ModelMismatchError (ValueError)   a saved model does not fit the data or version at hand

Messages name files, tables, columns, rules and counts, and never a customer's values.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "CrmineError",
    "CustomerNotFoundError",
    "DependencyError",
    "EngineError",
    "ExpressionError",
    "ModelMismatchError",
    "NotFittedError",
    "SchemaError",
    "SettingsError",
    "SourceError",
    "WorkspaceError",
]


class CrmineError(Exception):
    """Base of every error crmine raises on purpose."""


class SettingsError(CrmineError, ValueError):
    """Raised when crmine.toml, or settings given in code, break a rule; lists every problem at once."""


class SchemaError(CrmineError, ValueError):
    """Raised when a table lacks the columns an analysis needs, naming all that are missing."""


class SourceError(CrmineError, ValueError):
    """Raised when a source cannot be read at all (missing, empty, not text, wrong format)."""


class WorkspaceError(CrmineError, FileNotFoundError):
    """Raised when a folder is not a crmine workspace, or a step needs one that has not run."""


class ExpressionError(CrmineError, ValueError):
    """Raised when an expression in crmine.toml or on the command line cannot be parsed or typed."""


class EngineError(CrmineError, RuntimeError):
    """Raised when the warehouse engine fails; chained to the engine's own error."""


class DependencyError(CrmineError, ImportError):
    """Raised when an optional package is needed but not installed; says how to install it."""


class NotFittedError(CrmineError, ValueError, AttributeError):
    """Raised when a model is used for prediction before ``fit``."""


class ConvergenceError(CrmineError, RuntimeError):
    """Raised when an optimiser does not converge; the message says what to try."""


class ModelMismatchError(CrmineError, ValueError):
    """Raised when a saved model was trained with another version, settings or feature list."""


class CustomerNotFoundError(CrmineError, LookupError):
    """Raised when no customer matches the e-mail address or id of a privacy request."""
