"""SQLiteStore beyond the shared contract: one file used from several threads
and several processes at once (the ingest writing while the API and a CLI
read), and schema growth seen across processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.base import Point, StoreError, StoreUnavailable
from storage.sqlite import SQLiteStore

T0 = 1_767_225_600_000_000_000
START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def batch(writer: int, n: int, size: int) -> list[Point]:
    return [
        Point(
            "presence",
            {"site": "hq", "space": f"w{writer}-s{i % 10}"},
            {"occupied": i % 2, "seq": i},
            T0 + n * size + i,
        )
        for i in range(size)
    ]


def test_file_is_in_wal_mode(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_creates_missing_folders(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "a" / "b" / "s.db") as store:
        store.write(batch(0, 0, 3))
        assert store.count("presence") == 3


@pytest.mark.parametrize("path", [":memory:", ""])
def test_in_memory_database_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="needs a file"):
        SQLiteStore(path)


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.count("presence")


def test_threads_write_and_read_at_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    writers, batches, size = 4, 25, 100
    errors: list[BaseException] = []
    done = threading.Event()
    seen: list[int] = []

    def write(w: int) -> None:
        try:
            for n in range(batches):
                store.write(batch(w, n, size))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    def read() -> None:
        try:
            while not done.is_set():
                seen.append(store.count("presence"))
                store.read("presence", start=START, end=END, where={"space": "w0-s1"})
                store.last("presence", by="space")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    reader = threading.Thread(target=read)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join()
    assert errors == []
    assert store.count("presence") == writers * batches * size
    assert seen == sorted(seen)  # counts only grow: whole batches appear at once
    assert all(c % size == 0 for c in seen)
    last = store.last("presence", by="space")
    assert len(last) == writers * 10
    store.close()


WRITER = textwrap.dedent(
    """
    import sys
    from storage.base import Point
    from storage.sqlite import SQLiteStore
    store = SQLiteStore(sys.argv[1])
    offset = int(sys.argv[2])
    for n in range(40):
        store.write([
            Point("presence", {"site": "hq", "space": f"p{offset}-{i % 5}"},
                  {"occupied": 1, "seq": n * 250 + i},
                  1767225600000000000 + offset * 10**9 + n * 250 + i)
            for i in range(250)
        ])
    # A field this process adds: the parent's cached schema must notice it.
    store.write([Point("presence", {"space": f"p{offset}-x"}, {f"extra{offset}": "yes"}, 1)])
    store.close()
    """
)


def test_processes_write_while_another_reads(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    store.write([Point("presence", {"space": "parent"}, {"occupied": 0}, 0)])
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(k)], cwd=REPO)
        for k in (1, 2)
    ]
    seen = []
    while any(p.poll() is None for p in procs):
        seen.append(store.count("presence"))
        store.read("presence", start=START, end=END, where={"space": ["p1-0", "p2-0"]})
    assert [p.wait() for p in procs] == [0, 0]
    assert seen == sorted(seen)
    assert store.count("presence") == 1 + 2 * (40 * 250 + 1)
    df = store.read(
        "presence", start=datetime(1970, 1, 1, tzinfo=UTC), end=END, fields=["extra1", "extra2"]
    )
    assert sorted(df["space"]) == ["p1-x", "p2-x"]
    assert df.set_index("space").loc["p1-x", "extra1"] == "yes"
    # And this process can write alongside the fields the others added.
    store.write([Point("presence", {"space": "parent"}, {"extra1": "mine", "occupied": 1}, 0)])
    assert store.read(
        "presence", start=datetime(1970, 1, 1, tzinfo=UTC), end=START, where={"space": "parent"}
    )["extra1"].tolist() == ["mine"]
    store.close()


def test_second_store_on_the_same_file_sees_writes(tmp_path: Path) -> None:
    a, b = SQLiteStore(tmp_path / "s.db"), SQLiteStore(tmp_path / "s.db")
    a.write(batch(0, 0, 10))
    assert b.count("presence") == 10
    b.write([Point("presence", {"site": "hq", "space": "new"}, {"occupied": 1, "note": "b"}, T0)])
    assert a.last("presence", by="space", where={"space": "new"})["note"].tolist() == ["b"]
    a.close()
    b.close()


def test_locked_file_is_unavailable_then_recovers(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", busy_timeout_s=0.2)
    # Another connection holds the write lock longer than the store will wait.
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreUnavailable, match="locked"):
            store.write(batch(0, 0, 5))
        # Readers are not blocked by a writer (WAL), a new store opens too.
        assert store.count("presence") == 0
        SQLiteStore(tmp_path / "s.db").close()
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.write(batch(0, 0, 5))
    assert store.count("presence") == 5
    store.close()


def test_a_reader_never_creates_a_store(tmp_path: Path) -> None:
    from storage import StoreSettings, open_store
    from storage.base import StoreMissing

    missing = tmp_path / "typo" / "nope.db"
    with pytest.raises(StoreMissing, match=f"no store at {missing}: the file does not exist"):
        open_store(StoreSettings(url=f"sqlite:///{missing}"), create=False)
    assert not missing.parent.exists()
    other = tmp_path / "other.db"
    other.write_bytes(b"")  # an existing file that is not a store is not made one
    with pytest.raises(StoreMissing, match="is not an occupancy store"):
        open_store(StoreSettings(url=f"sqlite:///{other}"), create=False)
    assert other.read_bytes() == b""
    made = tmp_path / "made.db"
    open_store(StoreSettings(url=f"sqlite:///{made}")).close()  # writers still create
    open_store(StoreSettings(url=f"sqlite:///{made}"), create=False).close()
