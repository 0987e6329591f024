"""The pure rules: which activity interrupts limitation, and the contact-hours window."""

from __future__ import annotations

from datetime import time

import pytest

from recovery.activities import rules
from recovery.activities.models import ACTIVITY_KINDS


def interrupts(kind, proof=None, acknowledged=False, promise=False):
    return rules.interrupts_limitation(
        kind, proof_of_arrival=proof, debtor_acknowledged=acknowledged, with_promise=promise
    )


@pytest.mark.parametrize("kind", ["demand", "letter", "email", "message", "confirmation"])
def test_a_sent_document_interrupts_only_with_proof_of_arrival(kind):
    assert not interrupts(kind)
    assert not interrupts(kind, proof="   ")
    # Ticking "acknowledged" on a letter proves nothing about its arrival.
    assert not interrupts(kind, acknowledged=True)
    assert interrupts(kind, proof="EMS 1234567890, signed for 2025-03-05")


@pytest.mark.parametrize("kind", ["call", "visit", "meeting"])
def test_spoken_contact_interrupts_only_when_the_debtor_acknowledged(kind):
    assert not interrupts(kind)
    assert not interrupts(kind, proof="a delivery record means nothing for a call")
    assert interrupts(kind, acknowledged=True)


@pytest.mark.parametrize("kind", ACTIVITY_KINDS)
def test_a_promise_interrupts_whatever_the_kind(kind):
    assert interrupts(kind, promise=True)


def test_every_kind_has_a_rule_and_a_label():
    for kind in ACTIVITY_KINDS:
        assert kind in rules.KIND_LABELS
        assert (kind in rules.DELIVERED_KINDS) != (kind in rules.ACKNOWLEDGING_KINDS)


def test_the_ground_of_an_interruption():
    assert rules.interruption_ground("call", False, False) is None
    assert rules.interruption_ground("call", True, True) == "promise"
    assert rules.interruption_ground("demand", True, False) == "arrived"
    assert rules.interruption_ground("visit", True, False) == "acknowledged"


@pytest.mark.parametrize(
    ("moment", "inside"),
    [
        (time(7, 59), False),
        (time(8, 0), True),
        (time(12, 0), True),
        (time(21, 59), True),
        (time(22, 0), False),
        (time(23, 30), False),
        (time(0, 0), False),
    ],
)
def test_contact_hours_default_window(moment, inside):
    assert rules.within_contact_hours(moment, time(8), time(22)) is inside


def test_contact_hours_window_across_midnight():
    # A night shift allowed 20:00–02:00.
    assert rules.within_contact_hours(time(23), time(20), time(2))
    assert rules.within_contact_hours(time(1, 59), time(20), time(2))
    assert not rules.within_contact_hours(time(2), time(20), time(2))
    assert not rules.within_contact_hours(time(12), time(20), time(2))


def test_letters_and_emails_are_exempt_from_the_hours_rule():
    assert "letter" not in rules.REAL_TIME_KINDS
    assert "email" not in rules.REAL_TIME_KINDS
    assert {"call", "visit", "meeting", "message"} <= set(rules.REAL_TIME_KINDS)


def test_every_dispute_reason_has_a_label():
    from recovery.activities.models import DISPUTE_REASONS

    assert set(rules.DISPUTE_REASON_LABELS) == set(DISPUTE_REASONS)
