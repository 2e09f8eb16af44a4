"""Benchmark: importing a 100k-row contacts CSV with txtcrm's importer and with
django-import-export, on the same file and the same database.

    .venv/bin/pip install -e '.[bench]'          # django-import-export
    .venv/bin/python bench/contacts_import.py [--rows 100000] [--only ours] [--consent]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/txtcrm_bench \\
        .venv/bin/python bench/contacts_import.py

Generates the file (bench/contacts_import_data.py: unicode names, valid UK mobile
numbers in mixed formats, ~2% bad rows, ~2% numbers repeated in the file, tags,
AllowSMS), migrates the database, then runs each importer in a process of its own
(bench/contacts_import_run.py), with the contact tables emptied first, and reports
rows per second and the process's peak resident memory (ru_maxrss, which includes
Python and Django: the baseline column is that peak before the import started).

Settings: txtcrm.settings with TXTCRM_VAR_DIR=var/bench-import and DATABASE_URL from
the environment, else SQLite under that folder. No Celery worker runs: the push our
import queues at the end just waits on the filesystem broker.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench-import"
IMPORTERS = ("ours", "import-export")
TARGETS = {"speedup": 5.0, "seconds": 30.0, "peak_rss_mb": 300.0}


def environment() -> dict:
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="txtcrm.settings", TXTCRM_VAR_DIR=str(VAR))
    env.setdefault("DATABASE_URL", f"sqlite:///{VAR}/bench.sqlite3")
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)  # the push must not run here
    return env


def run(command: list[str], env: dict) -> str:
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"failed: {' '.join(command)}")
    return done.stdout


def table(results: list[dict], consent: bool = False) -> str:
    extra = " consent events |" if consent else ""
    lines = [
        "| importer | rows | seconds | rows/s | peak RSS (MB) | baseline RSS (MB) "
        f"| contacts | tag links | opt-out events |{extra} rows not imported |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if consent else ""),
    ]
    names = {"ours": "txtcrm csv_import", "import-export": "django-import-export"}
    for r in results:
        lines.append(
            f"| {names[r['importer']]} | {r['rows']:,} | {r['seconds']:.1f} "
            f"| {r['rows_per_second']:,.0f} | {r['peak_rss_mb']:.0f} | {r['baseline_rss_mb']:.0f} "
            f"| {r['contacts']:,} | {r['tag_links']:,} | {r['opt_out_events']:,} "
            + (f"| {r['consent_events']:,} " if consent else "")
            + f"| {r['failed_rows']:,} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", choices=IMPORTERS, help="run one importer")
    parser.add_argument(
        "--consent", action="store_true", help="add a Marketing consent column (ours reads it)"
    )
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from bench.contacts_import_data import generate

    env = environment()
    path = VAR / f"contacts-{args.rows}{'-consent' if args.consent else ''}.csv"
    started = time.perf_counter()
    content = generate(path, args.rows, consent=args.consent)
    print(
        f"Generated {path.relative_to(ROOT)} in {time.perf_counter() - started:.1f} s: "
        f"{content['rows']:,} rows, {content['bad_rows']:,} bad, "
        f"{content['repeated_numbers']:,} repeating an earlier number"
    )
    python = sys.executable
    run([python, "manage.py", "migrate", "--noinput"], env)

    results = []
    for importer in [args.only] if args.only else IMPORTERS:
        print(f"Running {importer}…", flush=True)
        output = run([python, "bench/contacts_import_run.py", importer, str(path)], env)
        result = json.loads(output.strip().splitlines()[-1])
        print(f"  {result['seconds']:.1f} s: {result['note']}", flush=True)
        results.append(result)

    print()
    print(
        f"Database: {results[0]['database']}; Python {sys.version.split()[0]}; "
        f"{os.cpu_count()} CPUs"
    )
    print()
    print(table(results, args.consent))
    ours = next((r for r in results if r["importer"] == "ours"), None)
    other = next((r for r in results if r["importer"] == "import-export"), None)
    if ours:
        print()
        checks = [
            (f"under {TARGETS['seconds']:.0f} s", ours["seconds"] < TARGETS["seconds"]),
            (
                f"peak under {TARGETS['peak_rss_mb']:.0f} MB",
                ours["peak_rss_mb"] < TARGETS["peak_rss_mb"],
            ),
        ]
        if other:
            speedup = ours["rows_per_second"] / other["rows_per_second"]
            checks.insert(
                0,
                (
                    f"{speedup:.1f}x django-import-export's rows/s (target ≥ "
                    f"{TARGETS['speedup']:.0f}x)",
                    speedup >= TARGETS["speedup"],
                ),
            )
        for label, ok in checks:
            print(f"- {'ok' if ok else 'MISSED'}: {label}")


if __name__ == "__main__":
    main()
