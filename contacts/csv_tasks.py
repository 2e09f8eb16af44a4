"""Celery task of the CSV import: a thin wrapper around contacts.csv_import.

The job's state lives in VAR_DIR/imports/<job id>/state.json (see
contacts/csv_import/jobs.py); the task only runs it. Registered by
`from contacts import csv_tasks` in contacts.tasks; the broker knows it by its name,
contacts.import_csv.
"""

from celery import shared_task

from contacts import csv_import


@shared_task(name="contacts.import_csv", ignore_result=True)
def import_csv(job_id: str) -> None:
    csv_import.run_import_job(job_id)
