"""Collection fix-up for the schemathesis tests (tests/test_fuzz_api.py)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Schemathesis names each operation's item `test[GET /path]` but, on pytest ≥ 9.2 (which builds the node
    id from `originalname`), every item gets the bare function's id: xdist then cannot tell them apart. Give
    each item the id its name says."""
    for item in items:
        if type(item).__name__ == "SchemathesisFunction" and item.name != getattr(item, "originalname", item.name):
            item._id = item.parent.id.child(item.name)
