from __future__ import annotations

import pytest

from tests.segment._simulated import close_simulated_workspace, simulated_workspace


@pytest.fixture(scope="session")
def sim_ws(tmp_path_factory):
    """A 3,000-customer simulated workspace, ingested and resolved (built once per run)."""
    yield simulated_workspace(tmp_path_factory)
    close_simulated_workspace()
