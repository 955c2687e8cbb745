"""The dead-letter file: a budget with rotation that counts what it dropped,
excerpts of oversized payloads, torn lines, and a disk that refuses writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.deadletters import (
    DeadLetter,
    DeadLetterFile,
    DeadLetterWriteFailed,
    excerpt_of,
    read_dead_letters,
)
from tests.ingest.conftest import fill

WHEN = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def letter(i: int, size: int = 10_000) -> DeadLetter:
    return DeadLetter("invalid_json", "bad", f"t/{i}", (f"{i:08d}" * (size // 8)).encode(), WHEN)


def test_the_budget_holds_and_every_letter_is_on_file_or_counted(tmp_path: Path) -> None:
    dropped: list[int] = []
    n = 300  # ~3 MB of records into a 1 MiB budget
    f = DeadLetterFile(tmp_path, replica="r", max_bytes=1 << 20, on_dropped=dropped.append)
    for i in range(n):
        f.append([letter(i)])
    f.close()
    on_disk = sum(p.stat().st_size for p in tmp_path.glob("*.jsonl"))
    assert on_disk <= 1 << 20
    kept = read_dead_letters(tmp_path)
    assert len(kept) + sum(dropped) == n
    # The newest are kept, in order; the oldest went first.
    assert [r["topic"] for r in kept] == [f"t/{i}" for i in range(n - len(kept), n)]


def test_a_torn_last_line_is_skipped_and_the_next_append_survives(tmp_path: Path) -> None:
    f = DeadLetterFile(tmp_path, replica="r")
    f.append([letter(i, 100) for i in range(3)])
    f.close()
    (path,) = tmp_path.glob("*.jsonl")
    with open(path, "ab") as fh:  # a crash mid-record
        fh.write(b'{"time": "2026-12-02T12:00:00Z", "reason": "sch')
    assert [r["topic"] for r in read_dead_letters(tmp_path)] == ["t/0", "t/1", "t/2"]
    again = DeadLetterFile(tmp_path, replica="r")
    again.append([letter(3, 100)])
    again.close()
    assert [r["topic"] for r in read_dead_letters(tmp_path)] == ["t/0", "t/1", "t/2", "t/3"]


def test_an_oversized_payload_keeps_an_excerpt_and_its_size(tmp_path: Path) -> None:
    big = "ä" * 600_000  # 1.2 MB of two-byte characters
    cut = excerpt_of(big.encode(), 1001)  # never half a character
    assert cut == ("ä" * 500).encode()
    f = DeadLetterFile(tmp_path, replica="r")
    f.append([DeadLetter("payload_too_large", "big", "t", cut, WHEN, payload_bytes=1_200_000)])
    f.close()
    (record,) = read_dead_letters(tmp_path)
    assert record["payload"] == "ä" * 500
    assert record["payload_bytes"] == 1_200_000 and record["payload_truncated"] is True
    assert sum(p.stat().st_size for p in tmp_path.glob("*.jsonl")) < 2_000


def test_a_full_disk_raises_a_counted_failure_and_leaves_whole_lines(small_fs: Path) -> None:
    f = DeadLetterFile(small_fs / "dl", replica="r", max_bytes=1 << 20)
    f.append([letter(0, 100)])
    fill(small_fs, 0)
    with pytest.raises(DeadLetterWriteFailed) as info:
        f.append([letter(1, 100_000), letter(2, 100_000)])
    assert info.value.unwritten == 2
    f.close()
    lines = b"".join(p.read_bytes() for p in (small_fs / "dl").glob("*.jsonl")).splitlines()
    assert [json.loads(line)["topic"] for line in lines] == ["t/0"]
