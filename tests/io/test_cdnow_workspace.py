"""CDNOW as a new user meets it: one sales file, `init --from`, ingest, and the published BG/NBD fit."""

from __future__ import annotations

from importlib import resources

import pytest

import crmine
from crmine.io import inspect_file, settings_text


@pytest.mark.slow
def test_cdnow_sample_from_init_reproduces_fader_hardie_lee(tmp_path):
    path = tmp_path / "cdnow_sample.csv"
    path.write_bytes(resources.files("crmine").joinpath("datasets/data/cdnow_sample.csv").read_bytes())
    root = tmp_path / "cd"
    ws = crmine.init(root, settings_text=settings_text([inspect_file(path)], root=root))
    [load] = ws.ingest.run()
    # Every line loads, the 255-style repeated lines included: no key was declared.
    assert (load.read, load.loaded, load.quarantined) == (6919, 6919, 0)
    assert ws.identity.resolve().unified_customers == 2357
    fit = ws.clv.fit(model="bgnbd", observation_end="1997-09-30", time_unit="W")
    # Fader, Hardie & Lee (2005), Marketing Science 24(2), table 1.
    published = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}
    for name, value in published.items():
        assert fit.params[name] == pytest.approx(value, rel=2e-3), name
    assert fit.log_likelihood == pytest.approx(-9582.429, abs=0.5)
