"""Shared fixtures: real databases (SQLite always, PostgreSQL when configured),
an injected clock, a FastAPI client, and a live server for the browser tests.

Storage tests take ``ctx`` and run once per backend. PostgreSQL runs when
``PLATEAU_TEST_POSTGRES_URL`` is set: each test session creates its own
database on that server and drops it at the end, so parallel runs and the
shared ``test`` database are never disturbed.
"""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from plateau.bus.local import LocalBus
from plateau.config import Settings
from plateau.domain.clock import FixedClock, SystemClock
from plateau.services.context import Context
from plateau.store.db import Database, normalise_url
from plateau.store.migrate import upgrade
from plateau.store.models import Base

PG_URL = os.environ.get("PLATEAU_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("PLATEAU_REQUIRE_POSTGRES") == "1"


def test_settings(url: str) -> Settings:
    return Settings(database_url=url, secret_key="test-secret-key-not-for-production")


@pytest.fixture(scope="session")
def tmp_root():
    with tempfile.TemporaryDirectory(prefix="plateau-tests-") as root:
        yield Path(root)


@pytest.fixture(scope="session")
def sqlite_url(tmp_root) -> str:
    url = f"sqlite:///{tmp_root / 'test.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url():
    if not PG_URL:
        pytest.skip("PostgreSQL not configured: set PLATEAU_TEST_POSTGRES_URL to run the storage tests on it")
    admin_url = normalise_url(PG_URL)
    name = f"plateau_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # unreachable server
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {PG_URL} is unreachable: {exc}")
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_databases: dict[str, Database] = {}


def _database(url: str) -> Database:
    if url not in _databases:
        _databases[url] = Database(url)
    return _databases[url]


def wipe(db: Database) -> None:
    """Empty every table (fast reset between tests; schema stays migrated)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            for name in tables:
                conn.exec_driver_sql(f'DELETE FROM "{name}"')
            conn.exec_driver_sql("DELETE FROM sqlite_sequence") if conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name='sqlite_sequence'").first() else None
        else:
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE")


def make_ctx(url: str) -> Context:
    db = _database(url)
    wipe(db)
    return Context(db=db, clock=FixedClock(), bus=LocalBus(), settings=test_settings(url))


@pytest.fixture(params=["sqlite", "postgres"])
def ctx(request) -> Context:
    """A context on a freshly wiped database, once per backend."""
    url = request.getfixturevalue(f"{request.param}_url")
    return make_ctx(url)


@pytest.fixture
def sqlite_ctx(sqlite_url) -> Context:
    return make_ctx(sqlite_url)


@pytest.fixture
def app(sqlite_ctx):
    from plateau.web.app import create_app

    return create_app(sqlite_ctx, background=False)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


class LiveServer:
    def __init__(self, ctx: Context, url: str):
        self.ctx = ctx
        self.url = url


@pytest.fixture(scope="session")
def _server(tmp_root):
    import uvicorn

    from plateau.web.app import create_app

    url = f"sqlite:///{tmp_root / 'browser.db'}"
    upgrade(url)
    ctx = Context(db=Database(url), clock=SystemClock(), bus=LocalBus(), settings=test_settings(url))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(create_app(ctx, background=True), host="127.0.0.1", port=port, log_level="warning",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(ctx, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=10)
    ctx.db.dispose()


@pytest.fixture
def live(_server):
    """The running server, on a freshly wiped database."""
    wipe(_server.ctx.db)
    return _server


def pytest_sessionfinish(session, exitstatus):
    for db in _databases.values():
        db.dispose()
