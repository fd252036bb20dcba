"""A real database per test: a migrated, seeded template copied (SQLite) or cloned (PostgreSQL).

Set TEST_DATABASE_URL to a PostgreSQL server URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run the
suite on PostgreSQL; by default it runs on SQLite files.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app import db
from app.cli import migrate
from app.config import get_settings

PG_URL = os.environ.get("TEST_DATABASE_URL")


def _pg_admin_engine(url: str):
    from sqlalchemy import create_engine

    u = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    return create_engine(u, isolation_level="AUTOCOMMIT"), u


def _seed(url: str) -> None:
    from app.services.seed import load_all

    engine = db.make_engine(url)
    with Session(engine) as session:
        load_all(session)
        session.commit()
    engine.dispose()


class _Databases:
    """Makes a fresh, migrated and seeded database for each test."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.run_id = uuid.uuid4().hex[:8]
        if PG_URL:
            self.admin, self.base = _pg_admin_engine(PG_URL)
            self.dropper = ThreadPoolExecutor(max_workers=1)
            self.template = f"bdg_tmpl_{self.run_id}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.template}"'))
            url = self.base.set(database=self.template).render_as_string(hide_password=False)
            migrate(url)
            _seed(url)
        else:
            self.template = str(tmp / "template.db")
            url = f"sqlite:///{self.template}"
            migrate(url)
            _seed(url)
            # Fold the WAL into the file so that a plain copy is complete.
            engine = db.make_engine(url)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
        self.count = 0

    def new(self) -> str:
        self.count += 1
        if PG_URL:
            name = f"bdg_t_{self.run_id}_{self.count}"
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
            return self.base.set(database=name).render_as_string(hide_password=False)
        path = self.tmp / f"t{self.count}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        if PG_URL:
            # Dropping takes a while; let a background thread do it while the next test runs.
            self.dropper.submit(self._drop_pg, make_url(url).database)
        else:
            path = Path(make_url(url).database)
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)

    def _drop_pg(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if PG_URL:
            self.dropper.shutdown(wait=True)
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
            self.admin.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory) -> Iterator[_Databases]:
    dbs = _Databases(tmp_path_factory.mktemp("db"))
    yield dbs
    dbs.close()


@pytest.fixture(autouse=True)
def _settings(monkeypatch, tmp_path):
    """Test settings; the cache is cleared so each test reads them afresh."""
    monkeypatch.setenv("ENVIRONMENT", "test")
    monkeypatch.setenv("WEBHOOK_WORKER", "false")
    monkeypatch.setenv("UPLOAD_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def db_url(databases) -> Iterator[str]:
    url = databases.new()
    yield url
    databases.drop(url)


@pytest.fixture
def engine(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    eng = db.make_engine(db_url)
    db.set_engine(eng)
    yield eng
    db.set_engine(None)
    eng.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def client(engine) -> Iterator[TestClient]:
    from app.main import create_app

    with TestClient(create_app()) as c:
        yield c


@pytest.fixture
def live_server(engine):
    """The whole app served by uvicorn on a free local port, on the test's database; yields the API's base URL."""
    import socket
    import threading
    import time

    import uvicorn

    from app.main import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/api/v1"
    server.should_exit = True
    thread.join(20)
