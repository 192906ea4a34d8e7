"""crmine: an analytical CRM engine."""

from crmine._version import __version__
from crmine.errors import CrmineError

__all__ = ["CrmineError", "__version__"]
