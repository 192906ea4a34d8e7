"""Privacy operations: erasure, access requests, the suppression list and the privacy log.

``ws.privacy.erase(email=...)`` removes every row about a person from every canonical and derived
table (histories, identity tables and quarantine included), rewrites the export files that name
them, deletes or marks stale the reports, flags models for retraining, and adds salted hashes of
their source ids and e-mail addresses to ``privacy_suppressed`` so that ingest quarantines their
rows (reason ``erased``) when the sources are loaded again. ``ws.privacy.access(out, email=...)``
writes everything held about them to a JSON file. Both are logged in ``privacy_log``; ``ws.privacy.log()``
lists them with every export of ``export_audit``.
"""

from crmine.privacy._erase import ErasureResult
from crmine.privacy._find import CustomerNotFoundError
from crmine.privacy._log import LOG
from crmine.privacy._namespace import PrivacyNamespace
from crmine.privacy._suppress import SUPPRESSED

__all__ = ["LOG", "SUPPRESSED", "CustomerNotFoundError", "ErasureResult", "PrivacyNamespace"]
