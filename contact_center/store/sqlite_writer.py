"""One thread, one plain ``sqlite3`` connection, one call per batch.

Through SQLAlchemy's async engine each statement of a transaction is its own hop to
aiosqlite's thread (begin, executemany, commit), and every hop is a wait for the GIL
to come back to the event loop.  The conversation log's hot path is a single
multi-row INSERT and COMMIT, so on SQLite it runs as one function in a dedicated
thread instead: one hand-off per batch however many rows.  Everything else keeps using
the async engine.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

COLUMNS = (
    "contact_id",
    "seq",
    "kind",
    "sender_kind",
    "sender_id",
    "sender_name",
    "body",
    "data",
    "client_id",
    "created_at",
)
_INSERT = f"INSERT INTO conversation_events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"


class SqliteBatchWriter:
    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(
                self._path, timeout=30, isolation_level="DEFERRED", check_same_thread=False
            )
            # The same durability as the async engine: a commit is on disk before the ack.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._conn = conn
        return self._conn

    def _insert(self, rows: Sequence[tuple[Any, ...]]) -> bool:
        conn = self._connect()
        try:
            conn.executemany(_INSERT, rows)
            conn.commit()
        except sqlite3.IntegrityError:
            conn.rollback()
            return False
        except BaseException:
            conn.rollback()
            raise
        return True

    async def insert(self, rows: list[dict[str, Any]]) -> bool:
        """Insert all rows in one transaction; False (nothing written) if any row breaks
        a unique constraint."""
        values = [
            tuple(json.dumps(row[c]) if c == "data" and row[c] is not None else row[c] for c in COLUMNS)
            for row in rows
        ]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._insert, values)

    def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)
