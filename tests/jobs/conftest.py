"""A real Redis server for the RQ backend's tests, started on a free loopback port.

Like .ci/with-postgres for PostgreSQL: `redis-server --port P --bind 127.0.0.1 --save ''
--appendonly no` in a temporary folder, stopped at the end of the session. The tests that use
it are skipped, with the reason, only when the `redis-server` binary is missing
(`make test` installs the Debian package redis-server)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid

import pytest

REDIS_SERVER = shutil.which("redis-server") or (
    "/usr/bin/redis-server" if shutil.which("/usr/bin/redis-server") else None
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """The URL of a throwaway Redis server (session-wide)."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    from redis import Redis

    folder = tmp_path_factory.mktemp("redis")
    for _attempt in range(3):
        port = _free_port()
        process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        connection = Redis.from_url(url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                connection.ping()
                break
            except Exception:
                time.sleep(0.05)
        else:
            connection.close()
            process.kill()
            process.wait()
            continue
        connection.close()
        break
    else:
        pytest.fail("could not start redis-server")
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def rq_app(app, redis_server):
    """The test app with jobs on RQ: its own queue name, so tests never see each other's."""
    app.config["REDIS_URL"] = redis_server
    app.config["JOBS_QUEUE"] = f"test-{uuid.uuid4().hex[:12]}"
    yield app
    from recovery.jobs import services

    with app.app_context():
        connection = services.redis_connection(app)
        for key in connection.scan_iter(f"*{app.config['JOBS_QUEUE']}*"):
            connection.delete(key)
