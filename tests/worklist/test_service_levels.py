"""The service-level clocks (DOMAIN §6) on the official calendar, pure; then find_breaches on
the database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from recovery.worklist.service_levels import (
    Extension,
    Levels,
    add_working_hours,
    assignment_breach,
    assignment_deadline,
    first_action_breach,
    first_action_deadline,
    to_local,
    to_utc,
    visit_breach,
    visit_deadline,
)

LEVELS = Levels()  # the defaults: 1 working day, 2 hours, 2 working days, 08:00–22:00


def L(*parts) -> datetime:  # noqa: N802 - a Beijing wall-clock time, as stored (naive UTC)
    return to_utc(datetime(*parts))


def test_local_and_utc_round_trip():
    assert L(2026, 3, 6, 8, 0) == datetime(2026, 3, 6, 0, 0)
    assert to_local(datetime(2026, 3, 5, 23, 30)) == datetime(2026, 3, 6, 7, 30)


# --- (a) assignment within one working day -----------------------------------------------------


def test_assignment_deadline_is_the_end_of_the_next_working_day():
    # An ordinary Thursday → the end of Friday.
    assert assignment_deadline(L(2026, 3, 5, 15, 0), LEVELS) == L(2026, 3, 7, 0, 0)
    # Friday 26 Sep 2025 → Sunday 28 Sep is a make-up working day: the end of that Sunday.
    assert assignment_deadline(L(2025, 9, 26, 15, 0), LEVELS) == L(2025, 9, 29, 0, 0)
    # Tuesday 30 Sep 2025, before the National Day holiday (1–8 Oct) → the end of 9 Oct.
    assert assignment_deadline(L(2025, 9, 30, 10, 0), LEVELS) == L(2025, 10, 10, 0, 0)
    # Opened on a Saturday → the end of Monday.
    assert assignment_deadline(L(2026, 3, 7, 11, 0), LEVELS) == L(2026, 3, 10, 0, 0)
    # Opened at 07:00 Beijing time, which is still the previous day in UTC: Beijing's day
    # counts.
    assert assignment_deadline(L(2026, 3, 5, 7, 0), LEVELS) == L(2026, 3, 7, 0, 0)
    # Zero working days: by the end of the day it was opened.
    zero = Levels(assign_working_days=0)
    assert assignment_deadline(L(2026, 3, 5, 15, 0), zero) == L(2026, 3, 6, 0, 0)


def test_assignment_breach_open_late_and_in_time():
    opened = L(2025, 9, 30, 10, 0)
    # Still unassigned on 9 Oct, the deadline day: no breach yet.
    assert assignment_breach(opened, None, L(2025, 10, 9, 23, 59), LEVELS) is None
    # Unassigned on 10 Oct: an open breach.
    breach = assignment_breach(opened, None, L(2025, 10, 10, 9, 0), LEVELS)
    assert breach is not None and breach.open and breach.rule == "assignment"
    assert breach.deadline == L(2025, 10, 10, 0, 0)
    assert breach.late_by(L(2025, 10, 10, 9, 0)) == timedelta(hours=9)
    # Assigned during the holiday: in time.
    assert assignment_breach(opened, L(2025, 10, 3, 12, 0), L(2025, 10, 20), LEVELS) is None
    # Assigned on 10 Oct: late; as of a moment before that, it was an open breach.
    late = assignment_breach(opened, L(2025, 10, 10, 11, 0), L(2025, 10, 20), LEVELS)
    assert late is not None and not late.open and late.met_at == L(2025, 10, 10, 11, 0)
    before = assignment_breach(opened, L(2025, 10, 10, 11, 0), L(2025, 10, 10, 10, 0), LEVELS)
    assert before is not None and before.open


def test_a_case_closed_unassigned_stops_the_clock():
    opened = L(2026, 3, 5, 15, 0)
    in_time = assignment_breach(opened, None, L(2026, 4, 1), LEVELS, L(2026, 3, 6, 12, 0))
    assert in_time is None
    closed_late = assignment_breach(opened, None, L(2026, 4, 1), LEVELS, L(2026, 3, 9, 12, 0))
    assert closed_late is not None and not closed_late.open
    assert closed_late.closed_at == L(2026, 3, 9, 12, 0)


# --- (b) first action within two working hours --------------------------------------------------


@pytest.mark.parametrize(
    ("assigned", "deadline"),
    [
        # Inside the window: two hours later.
        ((2026, 3, 5, 10, 0), (2026, 3, 5, 12, 0)),
        ((2026, 3, 5, 20, 0), (2026, 3, 5, 22, 0)),
        # Before the window opens: from 08:00.
        ((2026, 3, 5, 6, 30), (2026, 3, 5, 10, 0)),
        # Friday 21:00: one hour on Friday, the second from 08:00 on Monday.
        ((2026, 3, 6, 21, 0), (2026, 3, 9, 9, 0)),
        # Friday after the window closes: Monday 10:00.
        ((2026, 3, 6, 23, 0), (2026, 3, 9, 10, 0)),
        # Saturday 14 Feb 2026 is a make-up working day; the Spring Festival follows until 23rd.
        ((2026, 2, 14, 21, 30), (2026, 2, 24, 9, 30)),
        # Assigned during the National Day holiday 2025: from 9 Oct 08:00.
        ((2025, 10, 3, 12, 0), (2025, 10, 9, 10, 0)),
    ],
)
def test_first_action_deadline_counts_working_hours(assigned, deadline):
    assert first_action_deadline(L(*assigned), LEVELS) == L(*deadline)


def test_working_hours_follow_the_contact_window_setting():
    narrow = Levels(window_from=time(9, 0), window_until=time(18, 0))
    assert add_working_hours(L(2026, 3, 5, 17, 0), 2, narrow) == L(2026, 3, 6, 10, 0)
    # 1 hour on Thursday and 9 on Friday: Friday at closing time, not Monday morning.
    assert add_working_hours(L(2026, 3, 5, 17, 0), 10, narrow) == L(2026, 3, 6, 18, 0)
    assert add_working_hours(L(2026, 3, 5, 17, 0), 11, narrow) == L(2026, 3, 9, 10, 0)
    # A window that does not end after it starts counts whole working days.
    odd = Levels(window_from=time(22, 0), window_until=time(8, 0))
    assert add_working_hours(L(2026, 3, 6, 23, 0), 2, odd) == L(2026, 3, 9, 1, 0)


def test_first_action_breach():
    assigned = L(2026, 3, 6, 21, 0)
    assert first_action_breach(None, None, L(2026, 3, 9, 12, 0), LEVELS) is None
    assert first_action_breach(assigned, None, L(2026, 3, 9, 8, 59), LEVELS) is None
    breach = first_action_breach(assigned, None, L(2026, 3, 9, 9, 1), LEVELS)
    assert breach is not None and breach.open and breach.deadline == L(2026, 3, 9, 9, 0)
    assert first_action_breach(assigned, L(2026, 3, 9, 8, 30), L(2026, 3, 10), LEVELS) is None
    late = first_action_breach(assigned, L(2026, 3, 9, 11, 0), L(2026, 3, 10), LEVELS)
    assert late is not None and late.met_at == L(2026, 3, 9, 11, 0)
    assert late.late_by(L(2026, 3, 10)) == timedelta(hours=2)


# --- (c) field visit within two working days, or an extension -----------------------------------


def test_visit_deadline_on_the_calendar():
    # Thursday 12 Feb 2026 → Friday 13th and the make-up Saturday 14th: by the end of 14th.
    assert visit_deadline(L(2026, 2, 12, 10, 0), LEVELS) == L(2026, 2, 15, 0, 0)
    # Friday 13 Feb → the 14th, then the holiday: by the end of 24 Feb.
    assert visit_deadline(L(2026, 2, 13, 10, 0), LEVELS) == L(2026, 2, 25, 0, 0)


def test_visit_breach_and_extensions():
    requested = L(2026, 2, 12, 10, 0)
    after = L(2026, 2, 16, 9, 0)
    # No visit, no extension: an open breach after the 14th.
    breach = visit_breach(requested, None, after, LEVELS)
    assert breach is not None and breach.open and breach.rule == "visit"
    # Visited on the make-up Saturday: in time.
    assert visit_breach(requested, L(2026, 2, 14, 15, 0), after, LEVELS) is None
    # An extension asked for in time and waiting for the supervisor holds the clock.
    pending = Extension(L(2026, 2, 14, 18, 0), "pending", date(2026, 2, 26))
    assert visit_breach(requested, None, after, LEVELS, [pending]) is None
    # Approved until 26 Feb: the deadline moves to the end of that day.
    approved = Extension(
        L(2026, 2, 14, 18, 0), "approved", date(2026, 2, 26), L(2026, 2, 14, 19, 0)
    )
    assert visit_deadline(requested, LEVELS, [approved], after) == L(2026, 2, 27, 0, 0)
    assert visit_breach(requested, None, after, LEVELS, [approved]) is None
    assert visit_breach(requested, None, L(2026, 2, 27, 8, 0), LEVELS, [approved]).open
    # Before the decision was taken the approved request was still pending.
    assert visit_deadline(requested, LEVELS, [approved], L(2026, 2, 14, 18, 30)) is None
    # Rejected: the original deadline stands.
    rejected = Extension(L(2026, 2, 14, 18, 0), "rejected", date(2026, 2, 26), L(2026, 2, 15, 9, 0))
    assert visit_breach(requested, None, after, LEVELS, [rejected]).open
    # Asked for after the deadline: too late to excuse the breach.
    too_late = Extension(L(2026, 2, 15, 8, 0), "pending", date(2026, 2, 26))
    assert visit_breach(requested, None, after, LEVELS, [too_late]).open
    # Not yet asked for as of the moment looked at.
    future = Extension(L(2026, 2, 14, 18, 0), "pending", date(2026, 2, 26))
    assert visit_breach(requested, None, L(2026, 2, 14, 17, 0), LEVELS, [future]) is None
    # Visited late.
    late = visit_breach(requested, L(2026, 2, 24, 10, 0), L(2026, 3, 1), LEVELS)
    assert late is not None and not late.open and late.met_at == L(2026, 2, 24, 10, 0)


def test_chained_extensions():
    requested = L(2026, 3, 2, 10, 0)  # Monday → by the end of Wednesday 4 March
    first = Extension(L(2026, 3, 4, 9, 0), "approved", date(2026, 3, 6), L(2026, 3, 4, 10, 0))
    second = Extension(L(2026, 3, 6, 20, 0), "approved", date(2026, 3, 10), L(2026, 3, 6, 21))
    assert visit_deadline(requested, LEVELS, [second, first], L(2026, 3, 20)) == L(2026, 3, 11)
    # The second, asked for after the first extension ran out, does not count.
    third = Extension(L(2026, 3, 8, 9, 0), "approved", date(2026, 3, 12), L(2026, 3, 8, 10))
    assert visit_deadline(requested, LEVELS, [first, third], L(2026, 3, 20)) == L(2026, 3, 7)


# --- find_breaches on the database --------------------------------------------------------------


def test_find_breaches_open_late_and_in_time(work):
    from recovery.auth import services as auth
    from recovery.cases.models import RecoveryCase
    from recovery.worklist.service_levels import find_breaches

    collector = auth.create_user("c1", "pw-123456789", ["sales"])
    cp = [work.counterparty(f"B{n}") for n in range(7)]
    # Opened before the 2025 National Day holiday, never assigned: open breach from 10 Oct.
    unassigned = work.case(cp[0], number="UNASSIGNED", opened_at=L(2025, 9, 30, 10, 0))
    # Assigned in time but nobody acted.
    silent = work.case(
        cp[1],
        number="SILENT",
        opened_at=L(2025, 10, 9, 9, 0),
        assignee_id=collector.id,
        assigned_at=L(2025, 10, 9, 9, 30),
    )
    # Assigned late (on 10 Oct), then acted at once.
    late = work.case(
        cp[2],
        number="LATE",
        opened_at=L(2025, 9, 30, 11, 0),
        assignee_id=collector.id,
        assigned_at=L(2025, 10, 10, 9, 0),
        first_action_at=L(2025, 10, 10, 9, 30),
    )
    # Field visit asked for on Thursday 9 Oct; visited on Monday 13 Oct (deadline: the end of
    # the make-up Saturday 11 Oct) — late.
    visit_late = work.case(
        cp[3],
        number="VISIT-LATE",
        opened_at=L(2025, 10, 9, 8, 0),
        assignee_id=collector.id,
        assigned_at=L(2025, 10, 9, 8, 10),
        first_action_at=L(2025, 10, 9, 8, 20),
        visit_requested_at=L(2025, 10, 9, 10, 0),
    )
    work.activity(cp[3], collector, L(2025, 10, 13, 15, 0), kind="visit", case=visit_late)
    # The same, but an extension was asked for on Saturday: no breach while it waits.
    waiting = work.case(
        cp[4],
        number="EXTENDED",
        opened_at=L(2025, 10, 9, 8, 0),
        assignee_id=collector.id,
        assigned_at=L(2025, 10, 9, 8, 10),
        first_action_at=L(2025, 10, 9, 8, 20),
        visit_requested_at=L(2025, 10, 9, 10, 0),
    )
    work.extension(waiting, collector, L(2025, 10, 11, 17, 0), date(2025, 10, 17))
    # A visit asked for and not made, no extension: open breach.
    no_visit = work.case(
        cp[5],
        number="NO-VISIT",
        opened_at=L(2025, 10, 9, 8, 0),
        assignee_id=collector.id,
        assigned_at=L(2025, 10, 9, 8, 10),
        first_action_at=L(2025, 10, 9, 8, 20),
        visit_requested_at=L(2025, 10, 9, 10, 0),
    )
    # Closed unassigned on the second day: closed before its deadline, never a breach.
    work.case(
        cp[6],
        number="CLOSED",
        opened_at=L(2025, 10, 9, 8, 0),
        status="closed",
        outcome="recovered",
        closed_at=L(2025, 10, 10, 12, 0),
    )

    now = L(2025, 10, 14, 12, 0)
    found = find_breaches(now, levels=LEVELS)
    opened = {(b.case_number, b.rule) for b in found if b.open}
    assert opened == {
        ("UNASSIGNED", "assignment"),
        ("SILENT", "first_action"),
        ("NO-VISIT", "visit"),
    }
    assert not [b for b in found if not b.open]  # without ``since``: open breaches only
    silent_breach = next(b for b in found if b.case_number == "SILENT")
    assert silent_breach.deadline == L(2025, 10, 9, 11, 30)
    assert silent_breach.assignee_id == collector.id and silent_breach.case_id == silent.id

    with_late = find_breaches(now, levels=LEVELS, since=L(2025, 10, 1))
    done_late = {(b.case_number, b.rule) for b in with_late if not b.open}
    assert done_late == {("LATE", "assignment"), ("VISIT-LATE", "visit")}
    visit = next(b for b in with_late if b.case_number == "VISIT-LATE")
    assert visit.deadline == L(2025, 10, 12, 0, 0)
    assert visit.met_at == L(2025, 10, 13, 15, 0)
    # A ``since`` after their deadlines leaves the late ones out again.
    assert all(b.open for b in find_breaches(now, levels=LEVELS, since=L(2025, 10, 13)))

    # Narrowed to some cases.
    only = find_breaches(
        now,
        levels=LEVELS,
        case_ids=sa.select(RecoveryCase.id).where(RecoveryCase.number == "SILENT"),
    )
    assert [b.case_number for b in only] == ["SILENT"]
    # Before anything was due, nothing.
    assert find_breaches(L(2025, 10, 9, 11, 0), levels=LEVELS) == []
    assert unassigned.id and late.id and no_visit.id
