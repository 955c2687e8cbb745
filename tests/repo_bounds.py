"""Keep the suite's file accesses inside the checkout.

A newcomer's clone has nothing beside it: a test that opens a file in a sibling folder
passes here and fails there. An audit hook (PEP 578) sees every ``open`` the
test process makes; one that names a path beside the checkout (under its
parent folder but outside it) is recorded, and ``tests/conftest.py`` fails the
test that made it. Temporary folders, the interpreter and system files are
elsewhere and are not affected.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_INSIDE = str(REPO) + os.sep
_BESIDE = str(REPO.parent) + os.sep
_TEMP = str(Path(tempfile.gettempdir()).resolve()) + os.sep

violations: list[str] = []


# The temporary folder is exempt only where it lies beside the checkout (a
# TMPDIR in the same home folder). Where the checkout lies in it, as in CI's
# clone under /tmp/tmp.X/clone, everything else in /tmp/tmp.X is beside it;
# pytest's own temporary folders are elsewhere under /tmp and not affected.
_TEMP_EXEMPT = _TEMP.startswith(_BESIDE) and not _TEMP.startswith(_INSIDE)


def outside_repo(path: str) -> bool:
    """Whether ``path`` (relative ones against the working folder) lies beside
    the checkout rather than in it."""
    full = os.path.abspath(path) + os.sep
    if not full.startswith(_BESIDE) or full.startswith(_INSIDE):
        return False
    return not (_TEMP_EXEMPT and full.startswith(_TEMP))


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not args:
        return
    path = args[0]
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if isinstance(path, str) and outside_repo(path):
        violations.append(path)


_installed = False


def install() -> None:
    """Install the hook once per process (audit hooks cannot be removed)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def take() -> list[str]:
    """The paths recorded since the last call, and forget them."""
    out = list(violations)
    violations.clear()
    return out
