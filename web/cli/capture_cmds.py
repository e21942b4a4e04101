"""`strongroom ocr run`: the capture queue (page previews, OCR of scans) worked through once."""

from __future__ import annotations

import click

from records import capture
from records.model import RecordId
from web.cli.common import open_office


@click.group("ocr")
def ocr() -> None:
    """OCR and page previews of filed scans and PDFs (serve and watch do this in the background)."""


@ocr.command("run")
@click.pass_obj
def ocr_run(obj: dict[str, object]) -> None:
    """Capture every queued scan or PDF once: previews, OCR of pages without text, then reindex them."""
    with open_office(obj) as office:
        waiting = capture.queue(office.ports.catalog).waiting
        click.echo(f"{waiting} document(s) waiting; OCR languages {office.ocr_languages}.", err=True)
        taken: list[RecordId] = []

        def progress(record_id: RecordId, done: int, pages: int) -> None:
            if not taken or taken[-1] != record_id:
                taken.append(record_id)
            click.echo(f"  {office.ports.catalog.get(record_id).registry_number}: page {done} of {pages}", err=True)

        count = office.run_capture(progress)
        failed = 0
        for record_id in dict.fromkeys(taken):
            job = capture.status(office.ports.catalog, record_id)
            record = office.ports.catalog.get(record_id)
            if job is None:
                continue
            failed += job.state is capture.JobState.FAILED or bool(job.failed)
            click.echo(_line(record.registry_number, job))
    click.echo(f"Captured {count} document(s).")
    if failed:
        raise SystemExit(1)


def _line(number: str, job: capture.JobStatus) -> str:
    if job.state is capture.JobState.FAILED:
        return f"{number}: not captured: {job.problem}"
    text = f"{number}: {job.pages} page(s), {len(job.recognised)} recognised by OCR"
    problems = "; ".join(f"page {p.number}: {p.reason}" for p in job.failed)
    return text + (f"; {problems}" if problems else "") + (f"; {job.problem}" if job.problem else "")


COMMANDS = (ocr,)
