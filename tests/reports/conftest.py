"""Fixtures for the report commands: a CLI runner that has the `report` group."""

from __future__ import annotations

import pytest

from recovery.reports.cli import report_cli


@pytest.fixture
def report(app):
    """Invoke `flask report ...` against the test app; returns the click Result."""
    if "report" not in app.cli.commands:  # until recovery/__init__.py registers the group
        app.cli.add_command(report_cli)
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["report", *args])

    return invoke
