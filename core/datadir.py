"""The one data directory every default path resolves against.

``OCCUPANCY_DATA_DIR`` names it. Unset, it is ``var/`` of the checkout the
code runs from (where ``occupancy up`` has always kept its files), or, for an
installed package with no checkout, ``~/.local/share/occupancy``. Never the
current folder: ``occupancy keys create`` run from another folder must reach
the same ``api.db`` as the running API.

Read when a service's settings are built (once, at start-up); settings hold
the resulting paths and pass them on.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "OCCUPANCY_DATA_DIR"


def checkout_root() -> Path | None:
    """The repository the code runs from, if it is a checkout (editable install)."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def data_dir() -> Path:
    """The data directory, absolute."""
    given = os.environ.get(ENV, "").strip()
    if given:
        return Path(given).expanduser().resolve()
    root = checkout_root()
    if root is not None:
        return root / "var"
    return Path.home() / ".local" / "share" / "occupancy"


def data_path(*parts: str) -> Path:
    """A path inside the data directory."""
    return data_dir().joinpath(*parts)


def sqlite_url(*parts: str) -> str:
    """``sqlite:///`` URL of a file inside the data directory (absolute: four slashes)."""
    return f"sqlite:///{data_path(*parts)}"


def example_sites() -> Path:
    """Default site registry: the checkout's examples, wherever the command runs."""
    root = checkout_root()
    return root / "examples" / "sites" if root is not None else data_path("sites")
