"""The monthly report made in the background (recovery/jobs): the page starts it, the job's
page shows the progress bar, and the finished file is kept under the instance folder
(reports/monthly/) so that it can be downloaded again — the month's report as filed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from recovery.jobs import services as jobs
from recovery.monthly import report

JOB_KIND = "monthly_report"
FORMAT_LABELS = {"pdf": "PDF", "xlsx": "Excel"}


def reports_folder() -> Path:
    return Path(current_app.instance_path) / "reports" / "monthly"


def job_params(month, fmt: str, *, locale: str, today: date, user) -> dict:
    """What the job needs; the file's stored name is chosen now (the task gets no job id)."""
    return {
        "month": month.label,
        "format": fmt,
        "locale": locale,
        "today": today.isoformat(),
        "generated_by": user.display_name if user is not None else "",
        "file": f"{uuid.uuid4().hex}.{fmt}",
    }


def stored_path(result: dict) -> Path | None:
    """The file of a finished job; None when its name is not one this module writes."""
    name = str(result.get("file", ""))
    stem, _, fmt = name.partition(".")
    if (
        len(stem) != 32
        or not all(c in "0123456789abcdef" for c in stem)
        or fmt not in report_formats()
    ):
        return None
    return reports_folder() / name


def report_formats() -> tuple[str, ...]:
    return tuple(FORMAT_LABELS)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run(params: dict, progress) -> dict:
    month = report.parse_month(params["month"])
    with force_locale(params.get("locale") or "zh_CN"):
        data, built = report.generate(
            month,
            params["format"],
            today=date.fromisoformat(params["today"]),
            generated_by=params.get("generated_by", ""),
            progress=progress,
        )
        unavailable = [str(section.title) for section in built.unavailable]
    _write(reports_folder() / params["file"], data)
    return {
        "file": params["file"],
        "filename": report.filename(month, params["format"]),
        "month": month.label,
        "format": params["format"],
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "missing": built.missing_sources,
        "unavailable": unavailable,
    }


def _describe(params: dict):
    return f"{params.get('month', '')} · {FORMAT_LABELS.get(params.get('format'), '')}"


jobs.register(
    jobs.Task(
        kind=JOB_KIND,
        label=_l("Monthly report for head office"),
        work=run,
        result_template="monthly/_job_result.html",
        phases=dict(report.STEPS),
        describe=_describe,
    )
)
