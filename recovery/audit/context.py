"""Who is acting right now: set per request and by CLI commands, read by the audit listener."""

from __future__ import annotations

import contextlib
import getpass
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    ip: str | None = None


SYSTEM = Actor(None, "system")

_current: ContextVar[Actor] = ContextVar("recovery_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _current.get()


def set_actor(actor: Actor):
    """Set the actor; returns a token for reset_actor()."""
    return _current.set(actor)


def reset_actor(token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def acting_as(actor: Actor):
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def cli_actor(user=None) -> Actor:
    """The actor for a command-line run: the named user, else the operating-system account."""
    if user is not None:
        return Actor(user.id, user.username, "cli")
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(None, f"cli:{name}", "cli")
