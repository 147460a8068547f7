"""The jobs database: a database made before schema versions were kept (the schema and rows the gateway
wrote until then, copied here as they were) is migrated in place, keeps its jobs, and a newer one is refused."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from app.services.jobs.model import JobState, StageState
from app.services.jobs.store import SCHEMA_VERSION, JobStore, JobStoreError

UNVERSIONED_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    task TEXT NOT NULL,
    options TEXT NOT NULL,
    filename TEXT NOT NULL,
    input_file TEXT NOT NULL,
    state TEXT NOT NULL,
    stages TEXT NOT NULL,
    error TEXT,
    duration REAL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state);
"""
OPTIONS = {
    "model": "canary", "language": "en", "target_language": None, "num_speakers": None, "min_speakers": None,
    "max_speakers": None,
}  # fmt: skip


def unversioned_database(path: Path, rows: list[tuple[object, ...]]) -> None:
    """A jobs database as the gateway made it before `PRAGMA user_version` was kept."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(UNVERSIONED_SCHEMA)
    db.executemany("INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.close()


def old_row(job_id: str, state: str, finished_at: float | None, owner: str = "clientA") -> tuple[object, ...]:
    stages = {name: {"state": "succeeded", "progress": 1.0} for name in ("decode", "asr", "merge")}
    return (
        job_id, owner, "transcribe", json.dumps(OPTIONS), "talk.wav", "input.wav", state, json.dumps(stages), None,
        9.0, time.time() - 100, time.time() - 90, finished_at, 5,
    )  # fmt: skip


def test_an_unversioned_database_is_migrated_and_keeps_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    unversioned_database(
        path, [old_row("job_done", "succeeded", time.time() - 80), old_row("job_wait", "queued", None)]
    )
    store = JobStore(path)
    try:
        done = store.get("job_done")
        assert done is not None and done.state is JobState.SUCCEEDED and done.version == 5
        assert done.stages["asr"].state is StageState.SUCCEEDED and done.options.language == "en"
        assert [job.id for job in store.unfinished()] == ["job_wait"]
        assert store.finished_before(time.time()) == ["job_done"]
    finally:
        store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"jobs_by_owner", "jobs_by_state", "jobs_by_finished_at"} <= indexes
    db.close()
    JobStore(path).close()  # opening a current database again changes nothing


def test_a_database_newer_than_the_server_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    JobStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(JobStoreError, match="newer than this server"):
        JobStore(path)
