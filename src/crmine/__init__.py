"""crmine: an analytical CRM engine.

Open a workspace and work through its namespaces::

    import crmine
    ws = crmine.open("crm/")
    ws.ingest.run()
"""

from crmine._version import __version__
from crmine.errors import CrmineError
from crmine.workspace import Workspace, init, open

__all__ = ["CrmineError", "Workspace", "__version__", "init", "open"]
