"""Bulk writes shared by the CSV import and the demo seed."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from .models import Contact


def insert_contacts(conn, rows: list[dict]) -> list[int]:
    """Insert contact rows with SQLAlchemy Core, returning their ids in row order.

    PostgreSQL returns them from one batched ``INSERT … RETURNING``. SQLite
    cannot order a multi-row RETURNING, and SQLAlchemy then falls back to one
    statement per row (ten times slower), so there the ids are given: the
    transaction holds SQLite's write lock (BEGIN IMMEDIATE), nobody else can
    take the next ones, and a plain executemany runs in C.
    """
    contacts = Contact.__table__
    if conn.dialect.name != "sqlite":
        return list(conn.execute(insert(contacts).returning(contacts.c.id, sort_by_parameter_order=True),
                                 rows).scalars())
    start = (conn.execute(select(func.max(contacts.c.id))).scalar() or 0) + 1
    ids = list(range(start, start + len(rows)))
    conn.execute(insert(contacts), [{**row, "id": cid} for cid, row in zip(ids, rows)])
    return ids
