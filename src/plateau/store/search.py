"""Contact name search behind one interface: FTS5 on SQLite, pg_trgm on PostgreSQL.

Both backends answer the same question — which contacts have, for every
typed word, a word of their folded ``search_name`` that starts with it —
and return ids in ascending order after a cursor, so that a page is a range
read of an index (no OFFSET, no COUNT). The indexes themselves are built by
migration 0002 and follow the ``contacts`` table by themselves.

Ids in ascending order is the order both indexes give for free: FTS5 walks
its doclists by rowid and stops after ``limit`` rows even when half the file
matches a one-letter prefix; a sorted order by name would have to read every
match first.

On SQLite, rows written in a transaction wait in ``contacts_fts_pending``
(filled by triggers) and are indexed by ``flush_pending`` right before the
commit — see migration 0002 for why. Until then the search reads them from
the queue too, so a transaction sees its own rows.
"""

from __future__ import annotations

import re
import sqlite3

from sqlalchemy import and_, event, or_, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..domain.text import fold
from .models import Contact

_WORD = re.compile(r"[a-z0-9]+")
#: more words than this in a search box is a paste, not a name
MAX_TERMS = 8


def terms(query: str | None) -> list[str]:
    """The words of a typed name, folded like ``search_name``: "Lefèvre-Dupont" → ["lefevre", "dupont"]."""
    return _WORD.findall(fold(query))[:MAX_TERMS]


def name_ids(session: Session, words: list[str], after: int = 0, limit: int = 25) -> list[int]:
    """Ids (ascending, greater than ``after``) of contacts matching every word as a word prefix."""
    if not words:
        return []
    if session.get_bind().dialect.name == "sqlite":
        return _sqlite(session, words, after, limit)
    return _postgres(session, words, after, limit)


def _sqlite(session: Session, words: list[str], after: int, limit: int) -> list[int]:
    # words are [a-z0-9]+ only, so quoting them cannot change the query's syntax
    match = " ".join(f'"{word}"*' for word in words)
    indexed = session.scalars(
        text("SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH :match AND rowid > :after "
             "ORDER BY rowid LIMIT :limit"),
        {"match": match, "after": after, "limit": limit},
    ).all()
    # rows not indexed yet (this transaction's, normally none): a word-start scan of the queue
    params = {"after": after, "limit": limit, **{f"w{i}": f"% {word}%" for i, word in enumerate(words)}}
    words_sql = " AND ".join(f"(' ' || c.search_name) LIKE :w{i}" for i in range(len(words)))
    queued = session.scalars(
        text("SELECT c.id FROM contacts_fts_pending p JOIN contacts c ON c.id = p.id "
             f"WHERE p.id > :after AND {words_sql} ORDER BY p.id LIMIT :limit"), params).all()
    return sorted(set(indexed) | set(queued))[:limit] if queued else list(indexed)


_FLUSH = ("INSERT INTO contacts_fts(rowid, search_name) "
          "SELECT c.id, c.search_name FROM contacts_fts_pending p JOIN contacts c ON c.id = p.id")


def flush_pending(dbapi_connection) -> int:
    """Index the contacts queued by this transaction's triggers; returns how many."""
    cursor = dbapi_connection.cursor()
    try:
        if cursor.execute("SELECT 1 FROM contacts_fts_pending LIMIT 1").fetchone() is None:
            return 0
        count = cursor.execute(_FLUSH).rowcount
        cursor.execute("DELETE FROM contacts_fts_pending")
        return count
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # a database not migrated to 0002 yet
            return 0
        raise
    finally:
        cursor.close()


def install_sqlite(engine: Engine) -> None:
    """Flush the search queue inside every transaction of ``engine``, just before it commits."""

    @event.listens_for(engine, "commit")
    def _index_before_commit(connection):
        flush_pending(connection.connection.dbapi_connection)


def _postgres(session: Session, words: list[str], after: int, limit: int) -> list[int]:
    # "word%" or "% word%": a word start; the trigram GIN index serves both patterns
    column = Contact.search_name
    conditions = [or_(column.like(f"{word}%"), column.like(f"% {word}%")) for word in words]
    query = select(Contact.id).where(and_(*conditions), Contact.id > after).order_by(Contact.id).limit(limit)
    return list(session.scalars(query))
