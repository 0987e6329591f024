"""The load test's simulated users (issue 7, point 6), run by bench/loadtest/run.py.

    locust -f bench/loadtest/locustfile.py --headless ...   (run.py sets everything up)

Four kinds of user, in the proportions of a working day:

- finance (3): the ledger page with filters, an item, the aging report, a CSV export;
- sales (3): their worklist, a counterparty's activities, and a meeting logged (a web form
  with its CSRF token);
- ERP (3): ``POST /api/v1/credit-check`` before shipping, and receipts posted through
  ``POST /api/v1/receipts`` with an ``Idempotency-Key`` — one post in five is sent twice with
  the same key, as a client retrying after a timeout would;
- executives (1): the dashboard, as of today and as of a month-end, for the company and a
  department.

Every receipt the ERP users post is written, with its key and the answer's status and id, to
``LOADTEST_RECEIPTS`` (one JSON line each) so that run.py can check afterwards that none was
lost or written twice. The accounts and tokens come from ``LOADTEST_ACCOUNTS`` (JSON written
by run.py). Requests are named by their route, so the statistics group them; each request's
moment, name and time go to ``LOADTEST_TIMELINE`` (CSV), so that run.py can tell the users'
arrival from the steady state.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

ACCOUNTS = json.loads(Path(os.environ["LOADTEST_ACCOUNTS"]).read_text("utf-8"))
RECEIPTS_LOG = os.environ["LOADTEST_RECEIPTS"]
AS_OF = ACCOUNTS["as_of"]
_log_lock = threading.Lock()
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


_timeline = open(os.environ["LOADTEST_TIMELINE"], "a", encoding="utf-8")  # noqa: SIM115


@events.request.add_listener
def _on_request(request_type, name, response_time, start_time=None, **_kwargs):
    with _log_lock:
        _timeline.write(f"{start_time or 0:.3f},{request_type} {name},{response_time:.1f}\n")


@events.quitting.add_listener
def _on_quitting(**_kwargs):
    _timeline.close()


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


class SignedIn(HttpUser):
    abstract = True
    # People read what they opened before the next click.
    wait_time = between(3, 10)
    role = ""

    def on_start(self):
        account = random.choice(ACCOUNTS[self.role])  # noqa: S311 - load, not security
        self.account = account
        page = self.client.get("/login", name="/login")
        self.client.post(
            "/login",
            data={
                "username": account["username"],
                "password": ACCOUNTS["password"],
                "csrf_token": csrf_of(page.text),
            },
            name="/login [POST]",
            allow_redirects=False,
        )
        # The pages the sign-in leads to, each timed as its own request under its route's
        # name (the sign-in alone is the password check; its landing page is a page).
        home = self.client.get("/", name="/ (home)", allow_redirects=False)
        landing = urlsplit(home.headers.get("Location", "")).path
        if landing:
            self.client.get(landing, name=landing)


class Finance(SignedIn):
    weight = 3
    role = "finance"

    @task(4)
    def ledger_page(self):
        code = random.choice(ACCOUNTS["counterparty_codes"])
        self.client.get(f"/ledger/?counterparty={code}&as_of={AS_OF}", name="/ledger/?counterparty")

    @task(2)
    def ledger_overdue(self):
        self.client.get(f"/ledger/?overdue_only=1&as_of={AS_OF}", name="/ledger/?overdue_only")

    @task(2)
    def item(self):
        item_id = random.choice(ACCOUNTS["item_ids"])
        self.client.get(f"/ledger/items/{item_id}", name="/ledger/items/[id]")

    @task(1)
    def aging(self):
        self.client.get(f"/ledger/aging?as_of={AS_OF}&by=department", name="/ledger/aging")

    @task(1)
    def export(self):
        _code, counterparty_id = random.choice(ACCOUNTS["counterparties"])
        self.client.get(
            f"/ledger/export/items?counterparty_id={counterparty_id}&format=csv",
            name="/ledger/export/items",
        )


class Sales(SignedIn):
    weight = 3
    role = "sales"

    @task(3)
    def worklist(self):
        self.client.get("/worklist/", name="/worklist/")

    @task(2)
    def log_meeting(self):
        counterparty_id = random.choice(self.account["counterparty_ids"])
        url = f"/activities/new?counterparty_id={counterparty_id}"
        page = self.client.get(url, name="/activities/new")
        when = date.fromisoformat(AS_OF) - timedelta(days=random.randint(1, 20))  # noqa: S311
        with self.client.post(
            url,
            data={
                "csrf_token": csrf_of(page.text),
                "kind": "meeting",
                "occurred_at": f"{when.isoformat()}T10:30",
                "summary": "Load test: met the debtor's finance manager about the overdue items.",
                "next_step": "Call again next week",
            },
            name="/activities/new [POST]",
            catch_response=True,
        ) as response:
            # Saved: redirected away from the form. The form again: refused (a failure here).
            if response.ok and "/activities/new" in response.url:
                response.failure("the activity was refused")


class Erp(HttpUser):
    weight = 3
    wait_time = between(0.5, 1.5)

    def on_start(self):
        self.headers = {"Authorization": f"Bearer {ACCOUNTS['api_token']}"}

    @task(5)
    def credit_check(self):
        code = random.choice(ACCOUNTS["counterparty_codes"])
        amount = f"{random.randint(1, 500_000)}.00"  # noqa: S311
        self.client.post(
            "/api/v1/credit-check",
            json={"counterparty_code": code, "amount": amount},
            headers=self.headers,
            name="/api/v1/credit-check",
        )

    @task(2)
    def post_receipt(self):
        code = random.choice(ACCOUNTS["receipt_counterparty_codes"])
        receipt_no = f"LT-{uuid.uuid4().hex[:16]}"
        key = uuid.uuid4().hex
        body = {
            "receipt_no": receipt_no,
            "counterparty_code": code,
            "amount": f"{random.randint(100, 20_000)}.00",  # noqa: S311
            "received_on": AS_OF,
            "method": "transfer",
            "reference": "load test",
        }
        sends = 2 if random.random() < 0.2 else 1  # noqa: S311
        for attempt in range(sends):
            response = self.client.post(
                "/api/v1/receipts",
                json=body,
                headers={**self.headers, "Idempotency-Key": key},
                name="/api/v1/receipts",
            )
            try:
                received = response.json().get("id")
            except ValueError:
                received = None
            line = {
                "receipt_no": receipt_no,
                "key": key,
                "attempt": attempt,
                "status": response.status_code,
                "id": received,
                "counterparty_code": code,
                "amount": body["amount"],
            }
            with _log_lock, open(RECEIPTS_LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps(line) + "\n")


class Executive(SignedIn):
    weight = 1
    role = "executive"

    @task(3)
    def dashboard(self):
        # As an executive opens it: as of today (the stored credit holds), no date given.
        self.client.get("/dashboard/", name="/dashboard/")

    @task(1)
    def dashboard_department(self):
        department = random.choice(ACCOUNTS["department_ids"])
        self.client.get(
            f"/dashboard/?department_id={department}",
            name="/dashboard/?department",
        )

    @task(1)
    def dashboard_month_end(self):
        self.client.get(f"/dashboard/?as_of={ACCOUNTS['month_end']}", name="/dashboard/ month-end")
