"""The public surface of crmine.identity, pinned."""

import crmine.identity


def test_identity_public_names():
    assert sorted(crmine.identity.__all__) == [
        "DEFAULT_THRESHOLD", "IdentityResult", "LINEAGE_TABLE", "evaluate", "resolve",
    ]  # fmt: skip
    for name in crmine.identity.__all__:
        assert getattr(crmine.identity, name) is not None
