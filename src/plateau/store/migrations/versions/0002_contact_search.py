"""contact search: FTS5 on SQLite, pg_trgm on PostgreSQL

Hand-written: autogenerate cannot express virtual tables, triggers or
operator-class indexes. The index follows ``contacts.search_name`` (folded
"last first company") by itself, so rows written by any code path — the ORM,
the CSV import and the demo seed with SQLAlchemy Core — are searchable as soon
as they are committed, without any call from that code.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# External-content FTS5 table: the text lives once, in ``contacts``. Prefix
# indexes of 1 to 3 characters make a typed word start ("kar", "b") a single
# doclist read on a million rows.
#
# New and renamed rows are queued in ``contacts_fts_pending`` by triggers and
# indexed in one INSERT … SELECT just before the transaction commits
# (``store.search.flush_pending``, installed on every SQLite engine). Indexing
# from the trigger itself would cost four times more per row on the SQLite
# 3.40 of Debian 12: FTS5 writes its pending terms to disk at every statement
# savepoint, i.e. once per inserted row. Search also reads the queue, so a row
# written outside our engines is still found.
SQLITE_UP = [
    """CREATE VIRTUAL TABLE contacts_fts USING fts5(
           search_name, content='contacts', content_rowid='id',
           tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')""",
    "CREATE TABLE contacts_fts_pending (id INTEGER PRIMARY KEY)",
    """CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
           INSERT OR IGNORE INTO contacts_fts_pending(id) VALUES (new.id);
       END""",
    """CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_name ON contacts
       WHEN old.search_name IS NOT new.search_name BEGIN
           INSERT INTO contacts_fts(contacts_fts, rowid, search_name)
               SELECT 'delete', old.id, old.search_name
               WHERE NOT EXISTS (SELECT 1 FROM contacts_fts_pending WHERE id = old.id);
           INSERT OR IGNORE INTO contacts_fts_pending(id) VALUES (new.id);
       END""",
    """CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
           INSERT INTO contacts_fts(contacts_fts, rowid, search_name)
               SELECT 'delete', old.id, old.search_name
               WHERE NOT EXISTS (SELECT 1 FROM contacts_fts_pending WHERE id = old.id);
           DELETE FROM contacts_fts_pending WHERE id = old.id;
       END""",
    "INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS contacts_fts_update",
    "DROP TRIGGER IF EXISTS contacts_fts_delete",
    "DROP TRIGGER IF EXISTS contacts_fts_insert",
    "DROP TABLE IF EXISTS contacts_fts_pending",
    "DROP TABLE IF EXISTS contacts_fts",
]

# pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it.
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_contacts_search_name_trgm ON contacts USING gin (search_name gin_trgm_ops)",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_contacts_search_name_trgm"]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(POSTGRES_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(POSTGRES_DOWN)
