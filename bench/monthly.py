"""Measure the provision matrix and the monthly report on a database made by bench/generate.py.

    .venv/bin/python bench/monthly.py --database URL [--month YYYY-MM] [--runs 3] [--json FILE]

Measured, through the application's own code (wall time, and the CPU time of this process —
on SQLite that is all the work; the machine is shared, so wall time varies with its load):

- recovery.provisions.services.matrix as of the month's end (the aging by counterparty and
  department on the account-age basis, plus the specific provisions), and live_movement (the
  same against the last closed run);
- the monthly report (recovery.monthly.report): ``build`` section by section (the progress
  steps), then ``render_pdf`` and ``render_xlsx`` — what ``flask --app recovery report monthly``
  and the page's background job run. The goal (issue 6): under 30 s at a million items.

Nothing here writes to the benchmark database (the report's files are thrown away).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def median_run(function, runs: int) -> dict:
    walls, cpus = [], []
    for _ in range(runs):
        _result, wall, cpu = timed(function)
        walls.append(wall)
        cpus.append(cpu)
    return {
        "median_ms": round(statistics.median(walls) * 1000),
        "fastest_ms": round(min(walls) * 1000),
        "cpu_ms": round(statistics.median(cpus) * 1000),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of the bench database")
    parser.add_argument("--month", help="YYYY-MM (default: the month before the last item's)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--language", default="zh_CN", choices=("zh_CN", "en"))
    args = parser.parse_args()

    import sqlalchemy as sa
    from flask_babel import force_locale

    from recovery import create_app
    from recovery.extensions import db
    from recovery.ledger.models import Item
    from recovery.monthly import report
    from recovery.provisions import services as provisions

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database})
    figures: dict = {"database": app.config["SQLALCHEMY_DATABASE_URI"].split("://")[0]}
    with app.app_context(), force_locale(args.language):
        items = db.session.scalar(sa.select(sa.func.count()).select_from(Item))
        last = db.session.scalar(sa.select(sa.func.max(Item.recognized_on)))
        month = (
            report.parse_month(args.month)
            if args.month
            else report.previous_month(last or date.today())
        )
        figures.update(items=items, month=month.label)
        log(f"{items:,} items; month {month.label} (as of {month.last})")

        log("provision matrix …")
        matrix = provisions.matrix(month.last)
        figures["matrix_lines"] = len(matrix.lines)
        figures["matrix"] = median_run(lambda: provisions.matrix(month.last), args.runs)
        figures["live_movement"] = median_run(
            lambda: provisions.live_movement(month.last), args.runs
        )
        log(f"  matrix {figures['matrix']}, {len(matrix.lines):,} lines")
        log(f"  live_movement {figures['live_movement']}")

        runs = []
        for run in range(args.runs):
            steps: list[tuple[str, float]] = []
            start = time.perf_counter()

            def progress(phase, done, total, steps=steps, start=start):
                steps.append((phase, time.perf_counter() - start))

            built, wall, cpu = timed(
                lambda progress=progress: report.build(month, today=date.today(), progress=progress)
            )
            pdf, pdf_wall, pdf_cpu = timed(lambda built=built: report.render_pdf(built))
            xlsx, xlsx_wall, xlsx_cpu = timed(lambda built=built: report.render_xlsx(built))
            sections = {}
            for (phase, at), (_next, until) in zip(steps, steps[1:], strict=False):
                sections[phase] = round((until - at) * 1000)
            sections[steps[-1][0]] = round((wall - steps[-1][1]) * 1000)
            runs.append(
                {
                    "build_ms": round(wall * 1000),
                    "build_cpu_ms": round(cpu * 1000),
                    "pdf_ms": round(pdf_wall * 1000),
                    "pdf_cpu_ms": round(pdf_cpu * 1000),
                    "xlsx_ms": round(xlsx_wall * 1000),
                    "pdf_bytes": len(pdf),
                    "xlsx_bytes": len(xlsx),
                    "sections_ms": sections,
                    "missing": built.missing_sources,
                }
            )
            log(
                f"  run {run + 1}: build {wall:.1f} s (cpu {cpu:.1f}), pdf {pdf_wall:.1f} s, "
                f"xlsx {xlsx_wall:.1f} s; sections {sections}"
            )
        totals = [r["build_ms"] + r["pdf_ms"] for r in runs]
        figures["monthly_runs"] = runs
        figures["monthly_pdf_total_median_ms"] = round(statistics.median(totals))
        log(f"monthly report (build + PDF), median: {figures['monthly_pdf_total_median_ms']} ms")
        if runs[0]["missing"]:
            log(f"  not installed: {', '.join(runs[0]['missing'])}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
        log(f"written to {args.json}")


if __name__ == "__main__":
    main()
