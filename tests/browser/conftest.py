"""Browser fixtures: Debian's Chromium, one live server per module, a CSP-watching page.

The live server runs the real application with CSRF switched on (the browser submits the
real forms and their tokens) on a fresh copy of the migrated test database, with the demo
organisation loaded: one user per role, password ``demo_password(username)``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask, session, url_for
from flask_babel import gettext
from playwright.sync_api import ConsoleMessage, Page, expect
from werkzeug.serving import WSGIRequestHandler, make_server

from recovery import PROJECT_ROOT, create_app
from recovery.auth import services as auth
from recovery.demo.services import demo_password, load_organisation
from recovery.extensions import db
from tests.conftest import base_config, fresh_database_url

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Extra users beyond the demo organisation, so that tests which spoil an account
# (the lockout) leave the role users alone.
LOCKOUT_USER = "lock.target"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def base_url():
    """Replace pytest-playwright's fallback ``base_url``.

    That fallback is a session fixture defined as an instance method of a plugin class,
    which pytest 9 reports as PytestRemovedIn10Warning (an error under filterwarnings).
    These tests build absolute URLs from the module's live server instead.
    """
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


class _QuietHandler(WSGIRequestHandler):
    # HTTP/1.0: one request per connection, so no keep-alive thread outlives the tests
    # and server_close() never waits on an idle browser connection.
    protocol_version = "HTTP/1.0"

    def log_request(self, *args, **kwargs):  # the access log is noise here
        pass


@dataclass
class LiveServer:
    url: str
    app: Flask
    passwords: dict[str, str] = field(default_factory=dict)

    def path(self, endpoint: str, **values) -> str:
        with self.app.test_request_context():
            return url_for(endpoint, **values)

    def absolute(self, endpoint: str, **values) -> str:
        return self.url + self.path(endpoint, **values)

    def translate(self, language: str, message: str) -> str:
        """``message`` as the application renders it for a visitor who chose ``language``.

        Goes through the application's own locale selection and catalog, so the expectation
        follows the translations as they are, not as a test hard-codes them.
        """
        with self.app.test_request_context():
            session["lang"] = language
            return gettext(message)

    def query(self, function):
        """Run ``function()`` against the server's database, in an app context of its own."""
        with self.app.app_context():
            try:
                return function()
            finally:
                db.session.remove()


@pytest.fixture(scope="module")
def live_server(migrated_database, tmp_path_factory) -> Iterator[LiveServer]:
    tmp_path = tmp_path_factory.mktemp("browser")
    config = base_config(tmp_path, fresh_database_url(migrated_database, tmp_path))
    config["WTF_CSRF_ENABLED"] = True
    app = create_app(config)
    passwords = {}
    with app.app_context():
        for login in load_organisation():
            passwords[login.username] = login.password
        auth.create_user(LOCKOUT_USER, demo_password(LOCKOUT_USER), ["finance"])
        passwords[LOCKOUT_USER] = demo_password(LOCKOUT_USER)
        db.session.commit()
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, passwords)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


class UI:
    """One browser page on the live server, watching the console for CSP violations."""

    def __init__(self, page: Page, server: LiveServer):
        self.page = page
        self.server = server
        self.csp_violations: list[str] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", self._on_console)

    def _on_console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(f"{self.page.url}: {message.text}")

    def assert_no_csp_violations(self) -> None:
        assert self.csp_violations == [], "\n".join(self.csp_violations)

    def goto(self, target: str, status: int | None = 200):
        """Open a path on the server, check the status of the final answer and the console."""
        response = self.page.goto(self.server.url + target)
        assert response is not None
        if status is not None:
            assert response.status == status, f"{target}: {response.status}"
        self.assert_no_csp_violations()
        return response

    def submit(self, locator) -> None:
        """Click a submit control and wait for the page the form leads to."""
        with self.page.expect_navigation():
            locator.click()  # expect_navigation waits for the new page's load event
        self.assert_no_csp_violations()

    def login(self, username: str, password: str | None = None) -> None:
        if password is None:
            password = self.server.passwords[username]
        if not self.page.url.startswith(self.server.absolute("auth.login")):
            self.goto(self.server.path("auth.login"))
        form = self.page.locator(f"main form[action='{self.server.path('auth.login')}']")
        form.locator("input[name=username]").fill(username)
        form.locator("input[name=password]").fill(password)
        self.submit(form.locator("[type=submit]"))

    def html_lang(self) -> str | None:
        return self.page.locator("html").get_attribute("lang")

    def switch_language(self, code: str) -> None:
        self.submit(self.page.get_by_test_id(f"language-{code}"))

    def open_user_menu(self) -> None:
        self.page.get_by_test_id("user-menu").click()
        expect(self.page.get_by_test_id("logout")).to_be_visible()

    def logout(self) -> None:
        self.open_user_menu()
        self.submit(self.page.get_by_test_id("logout"))

    def path_is(self, endpoint: str, **values) -> re.Pattern:
        """A URL pattern for ``endpoint`` with any query string."""
        return re.compile(re.escape(self.server.absolute(endpoint, **values)) + r"(\?.*)?$")

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def ui(page: Page, live_server: LiveServer) -> Iterator[UI]:
    view = UI(page, live_server)
    yield view
    view.assert_no_csp_violations()
