"""Webhooks: registration through the API, signed delivery to a real HTTP receiver on loopback, retries."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from app.config import get_settings
from app.models import AuditEntry, WebhookDelivery
from app.models.base import utcnow
from app.services import webhooks
from tests.factories import login_headers

API = "/api/v1"
SECRET = "s3cret-for-tests-0123456789"


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers with scripted statuses (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/bdg"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _no_background_worker(monkeypatch):
    # These tests drive deliveries themselves; TestBackgroundWorker turns the worker on deliberately.
    monkeypatch.setenv("WEBHOOK_WORKER", "false")
    get_settings.cache_clear()


def verify(request: dict, secret: str) -> dict:
    """Check the signature as a receiver would; the decoded body."""
    ts = request["headers"]["X-BDG-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request["headers"]["X-BDG-Signature"], expected)
    assert abs(int(ts) - time.time()) < 60
    return json.loads(request["body"].decode("utf-8"))


def register(client, headers, url, events=("report.submitted",), secret=SECRET) -> dict:
    r = client.post(f"{API}/webhooks", json={"url": url, "events": list(events), "secret": secret}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def queue(engine, event, payload):
    with Session(engine) as s:
        deliveries = webhooks.enqueue(s, event, payload)
        s.commit()
        return [d.id for d in deliveries]


class TestRegistration:
    def test_create_shows_the_secret_once(self, client, session):
        h = login_headers(session, "coordinator")
        r = client.post(f"{API}/webhooks", json={"url": "https://he-thong.backan.gov.vn/bdg",
                                                 "events": ["report.accepted", "report.submitted"]}, headers=h)
        assert r.status_code == 201
        body = r.json()
        assert body["events"] == ["report.submitted", "report.accepted"] and body["active"] is True
        assert body["secret"].startswith("whsec_") and len(body["secret"]) > 30
        assert r.headers["etag"] == f'"{body["id"]}.1"' and r.headers["location"] == f"/api/v1/webhooks/{body['id']}"

        one = client.get(f"{API}/webhooks/{body['id']}", headers=h)
        assert one.status_code == 200 and "secret" not in one.json() and one.headers["etag"] == f'"{body["id"]}.1"'
        listed = client.get(f"{API}/webhooks", headers=h).json()
        assert listed["total"] == 1 and "secret" not in listed["items"][0]

        entry = session.exec(select(AuditEntry).where(AuditEntry.resource_type == "webhook")).one()
        assert entry.action == "create" and "secret" not in entry.after
        assert body["secret"] not in json.dumps(entry.after)

    def test_given_secret_and_idempotency_key(self, client, session):
        h = {**login_headers(session, "admin"), "Idempotency-Key": "wh-1"}
        payload = {"url": "http://10.0.0.5:8080/in", "events": ["report.returned"], "secret": SECRET, "active": False}
        first = client.post(f"{API}/webhooks", json=payload, headers=h)
        again = client.post(f"{API}/webhooks", json=payload, headers=h)
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
        assert first.json()["secret"] == SECRET
        assert client.get(f"{API}/webhooks", headers=h).json()["total"] == 1

    @pytest.mark.parametrize(("payload", "field"), [
        ({"url": "ftp://x.vn/h", "events": ["report.submitted"]}, "body.url"),
        ({"url": "not a url", "events": ["report.submitted"]}, "body.url"),
        ({"url": "https://x.vn/h", "events": ["report.deleted"]}, "body.events"),
        ({"url": "https://x.vn/h", "events": []}, "body.events"),
        ({"url": "https://x.vn/h", "events": ["report.submitted"], "secret": "short"}, "body.secret"),
        ({"url": "https://x.vn/h", "events": ["report.submitted"], "colour": "red"}, "body.colour"),
    ])
    def test_invalid_input_names_the_field(self, client, session, payload, field):
        h = login_headers(session, "coordinator")
        r = client.post(f"{API}/webhooks", json=payload, headers=h)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]]
        assert client.get(f"{API}/webhooks", headers=h).json()["total"] == 0

    def test_only_staff(self, client, session):
        coordinator = login_headers(session, "coordinator")
        hook = register(client, coordinator, "https://x.vn/h")
        for role, unit in (("officer", "p-song-cau"), ("viewer", None)):
            h = login_headers(session, role, unit)
            assert client.get(f"{API}/webhooks", headers=h).status_code == 403
            assert client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=h).status_code == 403
            assert client.post(f"{API}/webhooks", json={"url": "https://y.vn", "events": ["report.submitted"]},
                               headers=h).status_code == 403
            assert client.post(f"{API}/webhooks/{hook['id']}/test", headers=h).status_code == 403
            assert client.delete(f"{API}/webhooks/{hook['id']}", headers=h).status_code == 403
        assert client.get(f"{API}/webhooks").status_code == 401

    def test_update_and_delete_honour_if_match(self, client, session):
        h = login_headers(session, "coordinator")
        hook = register(client, h, "https://x.vn/h")
        url = f"{API}/webhooks/{hook['id']}"
        stale = client.patch(url, json={"active": False}, headers={**h, "If-Match": f'"{hook["id"]}.9"'})
        assert stale.status_code == 412
        r = client.patch(url, json={"events": ["report.returned", "report.submitted"], "active": False},
                         headers={**h, "If-Match": f'"{hook["id"]}.1"'})
        assert r.status_code == 200 and r.headers["etag"] == f'"{hook["id"]}.2"'
        assert r.json()["events"] == ["report.submitted", "report.returned"] and r.json()["active"] is False
        assert client.patch(url, json={"events": ["nope"]}, headers=h).status_code == 422
        assert client.delete(url, headers={**h, "If-Match": f'"{hook["id"]}.1"'}).status_code == 412
        assert client.delete(url, headers={**h, "If-Match": f'"{hook["id"]}.2"'}).status_code == 204
        assert client.get(url, headers=h).status_code == 404
        actions = session.exec(select(AuditEntry.action).where(AuditEntry.resource_type == "webhook")
                               .order_by(AuditEntry.id)).all()
        assert actions == ["create", "update", "delete"]


class TestDelivery:
    def test_signed_event_arrives_and_is_logged(self, client, session, engine, receiver):
        h = login_headers(session, "coordinator")
        hook = register(client, h, receiver.url, events=("report.submitted",))
        other = register(client, h, receiver.url + "/other", events=("report.accepted",))
        [delivery_id] = queue(engine, "report.submitted",
                              {"report_id": 7, "year": 2026, "unit_code": "p-song-cau", "unit_name": "Phường Sông Cầu",
                               "on_time": True})

        outcomes = webhooks.deliver_due(engine)
        assert [(o.delivery_id, o.status, o.attempts, o.status_code) for o in outcomes] == [
            (delivery_id, "delivered", 1, 200)]
        [req] = receiver.requests
        assert req["path"] == "/hooks/bdg"
        assert req["headers"]["X-BDG-Event"] == "report.submitted"
        assert req["headers"]["X-BDG-Delivery"] == str(delivery_id)
        assert req["headers"]["Content-Type"] == "application/json; charset=utf-8"
        body = verify(req, SECRET)
        assert body["id"] == delivery_id and body["event"] == "report.submitted"
        assert body["unit_name"] == "Phường Sông Cầu" and body["report_id"] == 7 and body["created_at"]
        with pytest.raises(AssertionError):
            verify(req, SECRET + "x")

        log = client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=h).json()
        [entry] = log["items"]
        assert (entry["event"], entry["status"], entry["attempts"], entry["last_status_code"], entry["last_error"]) \
            == ("report.submitted", "delivered", 1, 200, None)
        assert entry["delivered_at"] and entry["next_attempt_at"] is None
        assert client.get(f"{API}/webhooks/{other['id']}/deliveries", headers=h).json()["total"] == 0
        assert webhooks.deliver_due(engine) == [] and len(receiver.requests) == 1

    def test_failed_delivery_is_retried_with_backoff(self, client, session, engine, receiver):
        h = login_headers(session, "coordinator")
        hook = register(client, h, receiver.url)
        receiver.script = [500]
        [delivery_id] = queue(engine, "report.submitted", {"report_id": 1})
        now = utcnow()

        [first] = webhooks.deliver_due(engine, now)
        assert (first.status, first.attempts, first.status_code) == ("pending", 1, 500)
        entry = client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=h).json()["items"][0]
        assert entry["status"] == "pending" and entry["last_status_code"] == 500 and "500" in entry["last_error"]
        assert webhooks.deliver_due(engine, now + timedelta(seconds=29)) == []  # backoff: 30 s after attempt 1

        [second] = webhooks.deliver_due(engine, now + timedelta(seconds=31))
        assert (second.status, second.attempts) == ("delivered", 2)
        assert [r["headers"]["X-BDG-Delivery"] for r in receiver.requests] == [str(delivery_id)] * 2
        assert all(verify(r, SECRET)["id"] == delivery_id for r in receiver.requests)
        entry = client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=h).json()["items"][0]
        assert (entry["status"], entry["attempts"], entry["last_status_code"], entry["last_error"]) == (
            "delivered", 2, 200, None)

    def test_gives_up_after_max_attempts(self, client, session, engine, monkeypatch):
        monkeypatch.setenv("WEBHOOK_MAX_ATTEMPTS", "3")
        get_settings.cache_clear()
        h = login_headers(session, "coordinator")
        closed = Receiver()
        url = closed.url
        closed.close()  # nobody answers there any more
        hook = register(client, h, url)
        queue(engine, "report.submitted", {"report_id": 1})
        now = utcnow()
        statuses = []
        for step in range(4):
            statuses += [o.status for o in webhooks.deliver_due(engine, now + timedelta(hours=step * 7))]
        assert statuses == ["pending", "pending", "failed"]
        entry = client.get(f"{API}/webhooks/{hook['id']}/deliveries", params={"status": "failed"},
                           headers=h).json()["items"][0]
        assert entry["attempts"] == 3 and entry["last_status_code"] is None and entry["last_error"]

    def test_backoff_doubles_and_is_capped(self, monkeypatch):
        monkeypatch.setenv("WEBHOOK_BACKOFF_MAX_SECONDS", "200")
        get_settings.cache_clear()
        assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5)] == [30, 60, 120, 200, 200]

    def test_ping_and_redeliver(self, client, session, engine, receiver):
        h = login_headers(session, "admin")
        hook = register(client, h, receiver.url, events=("report.accepted",))
        r = client.post(f"{API}/webhooks/{hook['id']}/test", headers=h)
        assert r.status_code == 202 and r.json()["event"] == "ping" and r.json()["status"] == "pending"
        webhooks.deliver_due(engine)
        body = verify(receiver.requests[0], SECRET)
        assert receiver.requests[0]["headers"]["X-BDG-Event"] == "ping" and body["webhook_id"] == hook["id"]

        again = client.post(f"{API}/webhooks/{hook['id']}/deliveries/{r.json()['id']}/redeliver", headers=h)
        assert again.status_code == 202 and again.json()["id"] != r.json()["id"]
        webhooks.deliver_due(engine)
        assert [q["headers"]["X-BDG-Event"] for q in receiver.requests] == ["ping", "ping"]

        off = client.patch(f"{API}/webhooks/{hook['id']}", json={"active": False}, headers=h)
        assert off.status_code == 200
        assert client.post(f"{API}/webhooks/{hook['id']}/test", headers=h).status_code == 409
        assert queue(engine, "report.accepted", {"report_id": 3}) == []  # inactive hooks get nothing

    def test_two_workers_never_send_the_same_delivery(self, client, session, engine, receiver):
        h = login_headers(session, "coordinator")
        register(client, h, receiver.url)
        ids = [queue(engine, "report.submitted", {"report_id": n})[0] for n in range(12)]
        now = utcnow()
        assert webhooks.claim(engine, ids[0], now) is True
        assert webhooks.claim(engine, ids[0], now) is False  # leased by the first claim

        results: list = []
        workers = [threading.Thread(target=lambda: results.extend(webhooks.deliver_due(engine, now)))
                   for _ in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        sent = sorted(int(r["headers"]["X-BDG-Delivery"]) for r in receiver.requests)
        assert sent == ids[1:]  # each once; the leased one waits for its lease to end
        later = now + timedelta(seconds=get_settings().webhook_lease_seconds + 1)
        assert [o.delivery_id for o in webhooks.deliver_due(engine, later)] == [ids[0]]
        statuses = session.exec(select(WebhookDelivery.status).where(WebhookDelivery.id.in_(ids))).all()
        assert statuses == ["delivered"] * 12


class TestBackgroundWorker:
    def test_the_app_delivers_by_itself_and_stops_cleanly(self, engine, session, receiver, monkeypatch):
        from fastapi.testclient import TestClient

        from app.main import create_app

        monkeypatch.setenv("WEBHOOK_WORKER", "true")
        monkeypatch.setenv("WEBHOOK_WORKER_INTERVAL_SECONDS", "0.1")
        get_settings.cache_clear()
        threads_before = set(threading.enumerate())
        with TestClient(create_app()) as client:
            hook = register(client, login_headers(session, "coordinator"), receiver.url)
            [delivery_id] = queue(engine, "report.submitted", {"report_id": 5})
            deadline = time.monotonic() + 10
            while not receiver.requests and time.monotonic() < deadline:
                time.sleep(0.05)
        assert [r["headers"]["X-BDG-Delivery"] for r in receiver.requests] == [str(delivery_id)]
        assert verify(receiver.requests[0], SECRET)["report_id"] == 5
        delivery = session.get(WebhookDelivery, delivery_id)
        session.refresh(delivery)
        assert delivery.status == "delivered" and delivery.webhook_id == hook["id"]
        time.sleep(0.1)
        assert {t for t in threading.enumerate() if t.is_alive()} - threads_before == set()


class TestCommand:
    def test_deliver_webhooks_sends_what_is_due_and_prints_it(self, client, session, engine, receiver, capsys):
        from app import cli

        register(client, login_headers(session, "coordinator"), receiver.url)
        [delivery_id] = queue(engine, "report.submitted", {"report_id": 9})
        assert cli.main(["deliver-webhooks"]) == 0
        out = capsys.readouterr().out
        assert f"delivery {delivery_id}" in out and "delivered (attempt 1, HTTP 200)" in out
        assert verify(receiver.requests[0], SECRET)["report_id"] == 9
        assert cli.main(["deliver-webhooks"]) == 0
        assert "0 deliveries attempted" in capsys.readouterr().out and len(receiver.requests) == 1
