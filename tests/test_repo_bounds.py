"""The guard that keeps the suite inside the checkout (issue 14, item 1)."""

from __future__ import annotations

import contextlib
import json

from tests import repo_bounds
from tests.deploy import test_compose


def test_an_open_beside_the_checkout_is_recorded() -> None:
    beside = repo_bounds.REPO.parent / "beside-the-checkout" / "no-such-file.json"
    with contextlib.suppress(OSError):
        beside.read_text()
    assert repo_bounds.take() == [str(beside)]


def test_opens_inside_the_checkout_and_in_temp_are_not(tmp_path: object) -> None:
    (repo_bounds.REPO / "pyproject.toml").read_text()
    assert not repo_bounds.outside_repo("/tmp/x")
    assert not repo_bounds.outside_repo(str(repo_bounds.REPO / "tests" / "x"))
    assert repo_bounds.outside_repo(str(repo_bounds.REPO.parent / "beside-the-checkout"))
    assert repo_bounds.take() == []


def test_the_compose_schema_is_vendored_inside_the_repository() -> None:
    schema = test_compose.SCHEMA.resolve()
    assert schema.is_relative_to(repo_bounds.REPO)
    assert json.loads(schema.read_text())["title"] == "Compose Specification"
    notes = (schema.parent / "README.md").read_text()
    assert "170098ba07d9f53c383a41bfd4c5166b0a4529a6" in notes and "Apache" in notes
