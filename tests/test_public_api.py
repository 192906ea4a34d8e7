"""The public surface, pinned: a change here is a change users see."""

from __future__ import annotations

import crmine
import crmine.errors
import crmine.io
import crmine.warehouse


def test_top_level_names():
    assert sorted(crmine.__all__) == ["CrmineError", "Workspace", "__version__", "init", "open"]


def test_error_tree_roots_every_error_in_crmine_error_and_a_builtin():
    for name in crmine.errors.__all__:
        cls = getattr(crmine.errors, name)
        assert issubclass(cls, crmine.errors.CrmineError)
        if cls is not crmine.errors.CrmineError:
            assert any(b.__module__ == "builtins" and b is not Exception for b in cls.__mro__[1:]), name
            assert cls.__doc__ and name not in cls.__doc__.split(" ")[0:2]


def test_subpackage_surfaces():
    assert sorted(crmine.io.__all__) == sorted(["LOAD_LOG", "LoadResult", "QUARANTINE", "REASONS", "create_tables",
                                                "ingest", "FileGuess", "guess_rows", "inspect_file",
                                                "missing_analyses", "settings_text"])
    assert sorted(crmine.warehouse.__all__) == ["ENGINES", "Warehouse", "connect"]
    for mod in (crmine.io, crmine.warehouse):
        for name in mod.__all__:
            assert hasattr(mod, name)
