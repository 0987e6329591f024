"""The limitation rule (诉讼时效, DOMAIN §3; Civil Code arts. 188, 189, 194, 195, 201–203), pure.

The only outside knowledge is the official working-day calendar (recovery.core.workdays).
Written down in docs/legal.md, "Limitation guard".

1. The period runs from the day after the due date (art. 188); installments of one debt run
   from the due date of the last installment (art. 189).
2. An interruption (art. 195) restarts the whole period from its day: the period then ends
   three years after the interruption, as it ends three years after the due date.
3. It ends on the same calendar date three years later, or that month's last day where the
   date does not exist — 29 February → 28 February (arts. 201, 202).
4. A suspension (art. 194): an obstacle that exists during the last six months stops the
   clock; the period then ends six months after the obstacle is gone.
5. A last day that is not a working day moves to the next working day (art. 203), by the
   official calendar; beyond the years it knows, weekends only (and the result says so).
6. A suit filed (art. 195) stops the period while the proceedings run; it restarts when they
   end without a judgment (withdrawn, dismissed). A judgment or mediation that took effect
   replaces it by the two years for applying for enforcement (Civil Procedure Law art. 250),
   from the last day of the performance period, interrupted and suspended like the
   limitation; once enforcement is applied for, no period runs (a new application after the
   enforcement ends is not time-barred: SPC Interpretation of the Civil Procedure Law art. 517).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from recovery.core import workdays

LIMITATION_YEARS = 3
ENFORCEMENT_YEARS = 2
SUSPENSION_MONTHS = 6

# What period an Expiry describes.
LIMITATION = "limitation"  # the three years (诉讼时效)
ENFORCEMENT = "enforcement"  # the two years to apply for enforcement (申请执行期间)
SUIT_PENDING = "suit_pending"  # proceedings running: no period runs
ENFORCING = "enforcing"  # enforcement applied for: no period runs

# What restarts the period, strongest first: on one day, the first kind here is reported.
INTERRUPTION_KINDS = (
    "suit",
    "equivalent",
    "payment",
    "promise",
    "acknowledgement",
    "demand",
)
_STRENGTH = {kind: -rank for rank, kind in enumerate(INTERRUPTION_KINDS)}


def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later (earlier when negative); the month's last
    day where that day does not exist (art. 202)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


@dataclass(frozen=True)
class Event:
    """An interruption on a day (``kind`` one of INTERRUPTION_KINDS)."""

    on: date
    kind: str


@dataclass(frozen=True)
class Suspension:
    """An obstacle (art. 194) from ``start``; ``end`` is the day it was gone (None: lasting)."""

    start: date
    end: date | None


@dataclass(frozen=True)
class Proceedings:
    """The latest suit filed for the debt and what became of it, as recorded by legal."""

    filed_on: date
    judgment_effective_on: date | None = None  # a judgment or mediation took effect
    performance_deadline: date | None = None  # the last day of the performance period
    enforcement_on: date | None = None  # enforcement applied for
    closed_on: date | None = None


@dataclass(frozen=True)
class Expiry:
    """When the limitation of one debt ends, and why. While no period runs (``running``
    false: proceedings pending, enforcement applied for) the dates of the end are None."""

    due_on: date  # the due date the period runs from (the last installment's, for installments)
    runs_from: date  # the due date, the day of the last interruption, or the day proceedings
    # ended (the performance deadline, for the enforcement period)
    last_interruption: Event | None
    three_years_end: date | None  # runs_from + the period's years (art. 202)
    suspension: Suspension | None  # the obstacle that put the end later, if any
    suspension_lasting: bool  # that obstacle had not ended as of the date
    natural_end: date | None  # after the suspension, before art. 203
    expires_on: date | None  # the last day on which a suit (an application) is still in time
    calendar_known: bool  # the official calendar of the last day's year was known
    period: str = LIMITATION
    proceedings: Proceedings | None = None

    @property
    def running(self) -> bool:
        return self.expires_on is not None

    @property
    def period_years(self) -> int:
        return ENFORCEMENT_YEARS if self.period == ENFORCEMENT else LIMITATION_YEARS

    @property
    def moved(self) -> bool:
        """Whether art. 203 moved the last day off a day that is not a working day."""
        return self.expires_on != self.natural_end

    def days_left(self, as_of: date) -> int | None:
        return (self.expires_on - as_of).days if self.expires_on is not None else None


def last_interruption(due_on: date, events: Iterable[Event], as_of: date) -> Event | None:
    """The latest interruption known as of the date and later than the due date (an event on
    or before the due date changes nothing: the period starts after the due date anyway)."""
    found = None
    for event in events:
        if event is None or event.on <= due_on or event.on > as_of:
            continue
        if found is None or (event.on, _STRENGTH[event.kind]) > (
            found.on,
            _STRENGTH[found.kind],
        ):
            found = event
    return found


def expiry(
    due_on: date,
    as_of: date,
    events: Iterable[Event] = (),
    suspensions: Iterable[Suspension] = (),
    proceedings: Proceedings | None = None,
) -> Expiry:
    """The end of the limitation of a debt due on ``due_on``, as known on ``as_of``: events
    and suspensions dated after ``as_of`` are not known yet (a suspension that ends after it
    is still lasting), nor are the steps of the proceedings dated after it."""
    events = [event for event in events if event is not None]
    period, years, floor = LIMITATION, LIMITATION_YEARS, due_on
    suit = None
    if proceedings is not None and proceedings.filed_on <= as_of:
        suit = Event(proceedings.filed_on, "suit")
        effective = _known(proceedings.judgment_effective_on, as_of)
        if effective is not None:
            if _known(proceedings.enforcement_on, as_of) is not None:
                return _not_running(due_on, suit, ENFORCING, proceedings)
            # The two years run from the last day of the performance period, else from the
            # day the judgment took effect (Civil Procedure Law art. 250).
            period, years = ENFORCEMENT, ENFORCEMENT_YEARS
            floor = proceedings.performance_deadline or effective
        elif _known(proceedings.closed_on, as_of) is not None:
            floor = proceedings.closed_on  # ended without a judgment: the three years restart
        else:
            return _not_running(due_on, suit, SUIT_PENDING, proceedings)
    later = last_interruption(floor, events, as_of)
    last = later if later is not None else suit
    runs_from = later.on if later is not None else floor
    three_years_end = add_years(runs_from, years)
    end, applied, lasting = three_years_end, None, False
    for suspension in sorted(suspensions, key=lambda s: (s.start, s.end or date.max)):
        if suspension.start > as_of or suspension.start > end:
            continue  # not known yet, or it began after the period had ended
        gone = suspension.end if suspension.end is not None and suspension.end <= as_of else None
        if gone is not None and gone <= add_months(end, -SUSPENSION_MONTHS):
            continue  # gone before the last six months began
        if gone is None:
            # Still there: the period cannot end before six months after today (a lasting
            # obstacle that has not reached the last six months yet changes nothing so far).
            candidate, still = add_months(as_of, SUSPENSION_MONTHS), True
        else:
            candidate, still = add_months(gone, SUSPENSION_MONTHS), False
        if candidate >= end:
            end, applied, lasting = candidate, suspension, still
    expires_on = workdays.working_day_on_or_after(end)
    return Expiry(
        due_on=due_on,
        runs_from=runs_from,
        last_interruption=last,
        three_years_end=three_years_end,
        suspension=applied,
        suspension_lasting=lasting,
        natural_end=end,
        expires_on=expires_on,
        calendar_known=workdays.calendar_known(end.year)
        and workdays.calendar_known(expires_on.year),
        period=period,
        proceedings=proceedings if suit is not None else None,
    )


def _known(day: date | None, as_of: date) -> date | None:
    return day if day is not None and day <= as_of else None


def _not_running(due_on: date, suit: Event, period: str, proceedings: Proceedings) -> Expiry:
    return Expiry(
        due_on=due_on,
        runs_from=suit.on,
        last_interruption=suit,
        three_years_end=None,
        suspension=None,
        suspension_lasting=False,
        natural_end=None,
        expires_on=None,
        calendar_known=True,
        period=period,
        proceedings=proceedings,
    )


def earliest_possible_start(as_of: date, within: int) -> date:
    """The latest day a period may have started from (due date or interruption) and still end
    within ``within`` days of ``as_of``: a period that started later ends later, since every
    rule above only moves the end later than three years after the start. One day of slack
    for 29 February (29 Feb + 3 years = 28 Feb, the same end as 28 Feb)."""
    return add_years(as_of + timedelta(days=within), -LIMITATION_YEARS) + timedelta(days=1)
