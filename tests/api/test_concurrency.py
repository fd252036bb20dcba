"""Concurrent requests against a real server: no lost update, no "database is locked", nothing half-written."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import event, func
from sqlmodel import Session, select

from app.models import Activity, Unit
from tests.factories import login_headers


def _run_together(n: int, fn):
    """Run fn(i) in n threads released at the same moment; the results in order."""
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(go, range(n)))


def _activity(i: int) -> dict:
    return {"unit": "p-song-cau", "held_on": "2025-11-20", "title": f"Truyền thông trực tiếp số {i}",
            "kind": "direct", "channel": "direct", "task_group": "1", "participants_male": i,
            "participants_female": i + 1}


class TestConcurrentWrites:
    def test_simultaneous_creates_all_land(self, live_server, session, engine):
        headers = login_headers(session, "officer", "p-song-cau")
        before = session.exec(select(func.count()).select_from(Activity)).one()
        session.rollback()

        def create(i):
            with httpx.Client(base_url=live_server, headers=headers, timeout=60) as c:
                return [c.post("/activities", json=_activity(i * 10 + k)).status_code for k in range(5)]

        statuses = [s for batch in _run_together(6, create) for s in batch]
        assert statuses == [201] * 30
        with Session(engine) as fresh:
            assert fresh.exec(select(func.count()).select_from(Activity)).one() == before + 30

    def test_two_editors_from_the_same_version_one_wins(self, live_server, session, engine):
        headers = login_headers(session, "coordinator")
        with httpx.Client(base_url=live_server, headers=headers, timeout=60) as c:
            etag = c.get("/units/p-song-cau").headers["etag"]

        def edit(i):
            with httpx.Client(base_url=live_server, headers=headers, timeout=60) as c:
                r = c.patch("/units/p-song-cau", json={"name_en": f"Song Cau ward, edit {i}"},
                            headers={"If-Match": etag})
                return r.status_code, r.json()

        results = _run_together(5, edit)
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 412, 412, 412, 412]
        winner = next(body for status, body in results if status == 200)
        with Session(engine) as fresh:
            unit = fresh.exec(select(Unit).where(Unit.code == "p-song-cau")).one()
            assert unit.name_en == winner["name_en"] and unit.version == winner["version"]


class TestVersionCounter:
    def test_a_stale_write_fails_even_without_if_match(self, engine):
        """The version is the mapper's version counter: the second of two writers from one version fails."""
        import pytest
        from sqlalchemy.orm.exc import StaleDataError

        from app.models.base import bump

        with Session(engine) as first, Session(engine, expire_on_commit=False) as second:
            a = first.exec(select(Unit).where(Unit.code == "p-duc-xuan")).one()
            b = second.exec(select(Unit).where(Unit.code == "p-duc-xuan")).one()
            second.commit()  # end the read (keeping what was read), as a request that read, then waited, would
            a.name_en = "first"
            bump(a)
            first.commit()
            b.name_en = "second"
            bump(b)
            with pytest.raises(StaleDataError):
                second.commit()
        with Session(engine) as fresh:
            assert fresh.exec(select(Unit).where(Unit.code == "p-duc-xuan")).one().name_en == "first"


class TestOutOfRangeNumbers:
    def test_huge_ids_and_offsets_are_client_errors(self, client, session):
        headers = login_headers(session, "coordinator")
        huge = 10**30
        for path in (f"/api/v1/activities/{huge}", f"/api/v1/surveys/{huge}", f"/api/v1/webhooks/{huge}",
                     f"/api/v1/campaigns?offset={huge}", f"/api/v1/files/{huge}"):
            r = client.get(path, headers=headers)
            assert r.status_code in (404, 422), (path, r.status_code, r.text)
            assert r.headers["content-type"] == "application/problem+json"


class TestBusyDatabase:
    def test_a_locked_database_is_a_503_to_retry(self, engine, db_url):
        """A request that cannot get the write lock within the busy timeout answers 503 with Retry-After."""
        import pytest
        from fastapi.testclient import TestClient

        from app.api.app import create_api_app
        from app.db import make_engine, set_engine

        if not db_url.startswith("sqlite"):
            pytest.skip("SQLite's database-level write lock; PostgreSQL locks rows")
        impatient = make_engine(db_url)
        set_engine(impatient)

        @event.listens_for(impatient, "connect")
        def _short_timeout(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA busy_timeout=100")

        with Session(engine) as session:
            headers = login_headers(session, "coordinator")
        holder = engine.raw_connection()
        try:
            holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            with TestClient(create_api_app(), raise_server_exceptions=False) as c:
                r = c.patch("/v1/units/p-song-cau", json={"name_en": "x"}, headers=headers)
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            assert r.headers["content-type"] == "application/problem+json"
        finally:
            holder.rollback()
            holder.close()
            impatient.dispose()
