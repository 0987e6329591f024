"""Tasks of this package: re-evaluating every credit hold as a job."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from recovery.jobs import services as jobs

REEVALUATE_ALL = "credit.reevaluate_all"


def reevaluate_all(params: dict, progress) -> dict:
    """Re-evaluate every counterparty's hold (recovery.credit.services.reevaluate_all)."""
    from recovery.credit import services as credit  # imported late: credit imports much

    progress("reevaluate", 0, 0)
    changed = credit.reevaluate_all()
    progress("reevaluate", 1, 1)
    return {"changed": changed}


jobs.register(
    jobs.Task(
        kind=REEVALUATE_ALL,
        label=_l("Re-evaluate all credit holds"),
        work=reevaluate_all,
        phases={"reevaluate": _l("Re-evaluating the holds")},
    )
)
