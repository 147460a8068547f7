"""The jobs table in SQLite, with a schema version (`PRAGMA user_version`) and the migrations to it.

Version 0 is a database made before versions were kept (its table is version 1's); each migration runs
once, in a transaction with the version it brings. A database newer than this code is refused, so an older
server never writes rows it does not understand. Blocking: callers run every method on a worker thread.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from app.services.jobs.model import Job

MIGRATIONS: tuple[str, ...] = (
    # 1: the table and its indexes (a database made before versions were kept already has them).
    """
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
    """,
    # 2: finished jobs by age, for the retention sweep (JOBS_RETENTION_DAYS).
    "CREATE INDEX IF NOT EXISTS jobs_by_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL;",
)
SCHEMA_VERSION = len(MIGRATIONS)
COLUMN_NAMES = (
    "id", "owner", "task", "options", "filename", "input_file", "state", "stages", "error", "duration", "created_at",
    "started_at", "finished_at", "version",
)  # fmt: skip
COLUMNS = ", ".join(COLUMN_NAMES)
UPSERT = (
    f"INSERT INTO jobs ({COLUMNS}) VALUES ({', '.join('?' * len(COLUMN_NAMES))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in COLUMN_NAMES[1:])
    + " WHERE excluded.version > jobs.version"
)


class JobStoreError(RuntimeError):
    """The jobs database cannot be used by this version of the server."""


def migrate(db: sqlite3.Connection) -> int:
    """Bring the schema to `SCHEMA_VERSION`; returns the version the database had."""
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise JobStoreError(
            f"the jobs database has schema version {found}, newer than this server's {SCHEMA_VERSION}; "
            "run the newer server, or point DATA_DIR elsewhere"
        )
    for version in range(found + 1, SCHEMA_VERSION + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1].split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {version}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return found


class JobStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        try:
            migrate(self._db)
        except BaseException:
            self._db.close()
            raise

    def save(self, row: tuple[Any, ...]) -> None:
        """Insert or update a job; a row already at a newer version is kept."""
        with self._lock:
            self._db.execute(UPSERT, row)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else Job.from_row(row)

    def newest(self, owner: str | None, limit: int) -> list[Job]:
        """Newest first; every owner's with `owner=None`."""
        where, args = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        query = f"SELECT {COLUMNS} FROM jobs {where} ORDER BY created_at DESC, rowid DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*args, limit)).fetchall()
        return [Job.from_row(r) for r in rows]

    def unfinished(self) -> list[Job]:
        query = f"SELECT {COLUMNS} FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at, rowid"
        with self._lock:
            return [Job.from_row(r) for r in self._db.execute(query).fetchall()]

    def finished_before(self, cutoff: float, limit: int = 500) -> list[str]:
        """Ids of jobs that ended before `cutoff` (epoch seconds), oldest first."""
        query = "SELECT id FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ? ORDER BY finished_at LIMIT ?"
        with self._lock:
            return [row["id"] for row in self._db.execute(query, (cutoff, limit)).fetchall()]

    def delete(self, job_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
