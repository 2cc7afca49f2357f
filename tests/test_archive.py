"""Raw archives against real DuckDB files: export, import into an empty database, replay."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from pipeline.archive import FORMAT, VERSION, export_archive, import_archive
from pipeline.archive.format import ArchiveLineError, parse_answer
from pipeline.cli import main
from pipeline.rounds.replay import replay
from pipeline.simulator import SimulatorConfig, demo_credentials
from pipeline.store import open_store, raw_id_for
from pipeline.store.history import Selection, export_batches, raw_slot_counts
from pipeline.store.maintenance import compact_period, due_periods

HISTORY_KEYS = {
    "raw_responses": "raw_id",
    "balance_snapshots": "client_number, slot_start",
    "balance_lines": "client_number, slot_start, currency",
}


def checksums(path: Path) -> dict[str, tuple[int, str]]:
    """(row count, md5 of every row in key order) per table: equal means equal row for row."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return {
            table: con.execute(
                f"select count(*), md5(coalesce(string_agg(t::varchar, chr(10) order by {keys}),"
                f" '')) from {table} as t"
            ).fetchone()
            for table, keys in HISTORY_KEYS.items()
        }
    finally:
        con.close()


def clients_seen(path: Path) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "select client_number, first_seen, last_seen from clients order by 1"
        ).fetchall()
    finally:
        con.close()


def export(db: Path, out: Path, selection: Selection | None = None):
    with open_store(db) as store:
        return export_archive(store, out, selection)


def load(db: Path, archive: Path):
    with open_store(db) as store:
        return import_archive(store, archive)


def replay_all(db: Path):
    with open_store(db) as store:
        return replay(store)


def test_export_import_replay_rebuilds_history_row_for_row(demo_db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "raw.ndjson"
    exported = export(demo_db, archive)
    fresh = tmp_path / "fresh.duckdb"
    report = load(fresh, archive)
    summary = replay_all(fresh)

    original = checksums(demo_db)
    assert exported.answers == original["raw_responses"][0] > 0
    assert (report.read, report.imported, report.skipped) == (exported.answers, exported.answers, 0)
    assert report.warnings == []
    # raw_id is a content hash: equal raw_responses rows mean every raw_id round-tripped.
    assert checksums(fresh) == original
    assert summary.changes["balance_snapshots.inserted"] == original["balance_snapshots"][0]
    assert summary.changes["balance_lines.inserted"] == original["balance_lines"][0]
    assert clients_seen(fresh) == clients_seen(demo_db)


def test_importing_twice_and_replaying_twice_leaves_identical_tables(
    demo_db: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "raw.ndjson.gz"
    export(demo_db, archive)
    fresh = tmp_path / "fresh.duckdb"
    load(fresh, archive)
    replay_all(fresh)
    before = checksums(fresh)

    again = load(fresh, archive)
    second = replay_all(fresh)

    assert (again.imported, again.already_present) == (0, again.read)
    assert checksums(fresh) == before == checksums(demo_db)
    assert sum(second.changes.values()) == 0
    assert second.snapshots_unchanged == before["balance_snapshots"][0]
    assert second.lines_unchanged == before["balance_lines"][0]


def test_compacted_periods_export_the_same_archive(demo_db: Path, tmp_path: Path) -> None:
    before, after = tmp_path / "before.ndjson", tmp_path / "after.ndjson"
    export(demo_db, before)
    raw_before = checksums(demo_db)["raw_responses"]
    with open_store(demo_db) as store:
        for period in due_periods(store):
            compact_period(store, period, lake=False)
        slots = raw_slot_counts(store, Selection())
        batches = export_batches(store, slots, Selection(), 100)
    # Friday's and Saturday's answers are now stored by client: each day is one sorted batch.
    assert any(b.slot_to - b.slot_from > timedelta(hours=10) for b in batches)
    assert checksums(demo_db)["raw_responses"] == raw_before
    export(demo_db, after)
    # Line for line the same, but for the header's export instant.
    assert before.read_text().splitlines()[1:] == after.read_text().splitlines()[1:]


def test_gzip_archive_round_trips(demo_db: Path, tmp_path: Path) -> None:
    plain, packed = tmp_path / "raw.ndjson", tmp_path / "raw.ndjson.gz"
    export(demo_db, plain)
    export(demo_db, packed)
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert packed.stat().st_size < plain.stat().st_size / 3
    # Same answers, same order; only the header's export instant differs.
    unpacked = gzip.decompress(packed.read_bytes()).splitlines()
    assert unpacked[1:] == plain.read_bytes().splitlines()[1:]
    fresh = tmp_path / "fresh.duckdb"
    assert load(fresh, packed).imported == checksums(demo_db)["raw_responses"][0]
    assert checksums(fresh)["raw_responses"] == checksums(demo_db)["raw_responses"]


def test_archive_is_versioned_ndjson_with_header_and_end_line(
    demo_db: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "raw.ndjson"
    summary = export(demo_db, archive, Selection(client=500608))
    lines = [json.loads(line) for line in archive.read_bytes().splitlines()]
    assert lines[0]["format"] == FORMAT and lines[0]["version"] == VERSION
    assert lines[0]["selection"] == {"from": None, "to": None, "client": 500608}
    assert lines[-1] == {"format": FORMAT, "end": True, "answers": summary.answers}
    answers = lines[1:-1]
    assert len(answers) == summary.answers > 0
    assert {a["client_number"] for a in answers} == {500608}
    first = answers[0]
    assert set(first) == {
        "raw_id", "client_number", "slot_start", "observed_at", "http_status", "body",
        "body_encoding", "body_size", "body_truncated",
    }  # fmt: skip
    assert first["slot_start"].endswith(".000000Z") and len(first["observed_at"]) == 27


def test_export_filters_by_slot_range_and_client(demo_db: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(demo_db), read_only=True)
    query = "select distinct slot_start from raw_responses order by 1"
    slots = [row[0] for row in con.execute(query).fetchall()]
    expected = con.execute(
        "select count(*) from raw_responses where slot_start >= ? and slot_start < ? "
        "and client_number = 500608",
        [slots[10], slots[20]],
    ).fetchone()[0]
    con.close()
    archive = tmp_path / "part.ndjson"
    summary = export(demo_db, archive, Selection(slots[10], slots[20], 500608))
    assert summary.answers == expected == 10


def test_no_password_or_request_reaches_the_archive(demo_db: Path, tmp_path: Path) -> None:
    plain, packed = tmp_path / "raw.ndjson", tmp_path / "raw.ndjson.gz"
    export(demo_db, plain)
    export(demo_db, packed)
    texts = [plain.read_bytes(), gzip.decompress(packed.read_bytes())]
    credentials = demo_credentials(SimulatorConfig())
    assert credentials
    for credential in credentials:
        secret = credential.api_password.encode()
        assert all(secret not in text for text in texts), credential.client_number
    assert all(b"api_password" not in text.lower() for text in texts)


def write_archive(path: Path, answer_lines: list[bytes], *, end: int | None = None) -> None:
    head = json.dumps({"format": FORMAT, "version": 1}).encode()
    tail = [json.dumps({"format": FORMAT, "end": True, "answers": end}).encode()] if end else []
    path.write_bytes(b"\n".join([head, *answer_lines, *tail]))


def sample_lines(demo_db: Path, tmp_path: Path, n: int) -> list[bytes]:
    archive = tmp_path / "sample.ndjson"
    export(demo_db, archive)
    return archive.read_bytes().splitlines()[1 : n + 1]


def test_corrupted_archive_imports_the_good_lines_and_names_the_bad_ones(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    good = sample_lines(demo_db, tmp_path, 4)
    no_body = json.loads(good[3])
    del no_body["body"]
    lines = [
        good[0],  # line 2
        b"this is not json",  # line 3
        good[1],  # line 4
        json.dumps(no_body).encode(),  # line 5
        good[2],  # line 6
        good[3][: len(good[3]) // 2],  # line 7: cut short, no end line follows
    ]
    archive = tmp_path / "broken.ndjson"
    write_archive(archive, lines)
    db = tmp_path / "fresh.duckdb"
    monkeypatch.setenv("PIPELINE_DB", str(db))

    assert main(["raw", "import", str(archive)]) == 0

    out, err = capsys.readouterr()
    assert "read 6, imported 3, already present 0, skipped 3" in out
    assert f"{archive}:3: skipped: not JSON" in err
    assert f"{archive}:5: skipped: missing body" in err
    assert f"{archive}:7: skipped: not JSON" in err
    assert "no end line" in err
    assert checksums(db)["raw_responses"][0] == 3


def test_import_exits_non_zero_only_when_nothing_could_be_imported(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("PIPELINE_DB", str(tmp_path / "fresh.duckdb"))
    bad = tmp_path / "bad.ndjson"
    write_archive(bad, [b"{", b'{"client_number": true, "body": "x"}'])
    assert main(["raw", "import", str(bad)]) == 1
    assert "nothing could be imported" in capsys.readouterr().err

    empty = tmp_path / "empty.ndjson"
    write_archive(empty, [], end=None)
    assert main(["raw", "import", str(empty)]) == 0  # nothing to import is not a failure

    assert main(["raw", "import", str(tmp_path / "missing.ndjson")]) == 1
    assert "no such file" in capsys.readouterr().err

    good = tmp_path / "good.ndjson"
    write_archive(good, sample_lines(demo_db, tmp_path, 2), end=2)
    assert main(["raw", "import", str(good), str(bad)]) == 0
    assert main(["raw", "import", str(good)]) == 0  # all already present: still a success
    assert "imported 0, already present 2" in capsys.readouterr().out


def test_an_altered_line_or_a_newer_version_is_refused(demo_db: Path, tmp_path: Path) -> None:
    line = json.loads(sample_lines(demo_db, tmp_path, 1)[0])
    line["body"] = line["body"].replace("0", "1", 1)
    with pytest.raises(ArchiveLineError, match="does not match the content hash"):
        parse_answer(json.dumps(line).encode())

    newer = tmp_path / "v2.ndjson"
    newer.write_text(json.dumps({"format": FORMAT, "version": 2}) + "\n")
    report = load(tmp_path / "fresh.duckdb", newer)
    assert report.file_error is not None and "version 2 is not supported" in report.file_error


def test_imported_instants_reproduce_the_content_hash() -> None:
    # Whole seconds are where isoformat() drops the microseconds: the hash must still match.
    slot = datetime(2026, 11, 1, 12, tzinfo=UTC)
    for observed in (datetime(2026, 11, 1, 12, 0, 3, tzinfo=UTC), slot.replace(microsecond=7)):
        body = '{"ResponseCode": 0, "Data": []}'
        line = {
            "client_number": 500608,
            "slot_start": "2026-11-01T14:00:00.000000+02:00",  # another offset, same instant
            "observed_at": observed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "http_status": 200,
            "body": body,
        }
        answer = parse_answer(json.dumps(line).encode())
        assert answer.raw_id == raw_id_for(500608, slot, observed, body)
        assert answer.slot_start == slot and answer.body == body


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_number": "500608"}, "client_number must be int"),
        ({"http_status": True}, "http_status must be int"),
        ({"slot_start": "2026-11-01T12:00:00"}, "slot_start has no UTC offset"),
        ({"observed_at": "yesterday"}, "observed_at is not an ISO-8601 instant"),
        ({"body": None}, "body is null"),
        ({"body_encoding": "latin-1"}, "body_encoding must be one of"),
    ],
)
def test_mistyped_fields_are_bad_lines(change: dict, message: str) -> None:
    line = {
        "client_number": 500608,
        "slot_start": "2026-11-01T12:00:00.000000Z",
        "observed_at": "2026-11-01T12:00:01.000000Z",
        "http_status": 200,
        "body": "{}",
        **change,
    }
    with pytest.raises(ArchiveLineError, match=message):
        parse_answer(json.dumps(line).encode())


def test_cli_exports_and_imports_through_pipeline_db(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    archive = tmp_path / "out" / "client.ndjson.gz"
    monkeypatch.setenv("PIPELINE_DB", str(demo_db))
    argv = ["raw", "export", "--client", "500608", "--from", "2026-10-31T00:00:00Z"]
    assert main([*argv, "--out", str(archive)]) == 0
    assert "exported 37 answers" in capsys.readouterr().out
    assert not (tmp_path / "out" / "client.ndjson.gz.part").exists()

    monkeypatch.setenv("PIPELINE_DB", str(tmp_path / "fresh.duckdb"))
    assert main(["raw", "import", str(archive)]) == 0
    assert "read 37, imported 37, already present 0, skipped 0" in capsys.readouterr().out
