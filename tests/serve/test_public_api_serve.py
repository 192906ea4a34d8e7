"""The public names of crmine.serve."""

import crmine.serve


def test_serve_exports_exactly_these_names():
    assert sorted(crmine.serve.__all__) == ["RIGHTS", "ROLES", "TransactionLine", "create_app", "create_key",
                                            "list_keys", "revoke_key"]
    assert all(hasattr(crmine.serve, n) for n in crmine.serve.__all__)
    assert crmine.serve.ROLES == ("admin", "analyst", "marketer", "till")
