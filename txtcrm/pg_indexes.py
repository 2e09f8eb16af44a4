"""Indexes only PostgreSQL has (pg_trgm for `LIKE '%text%'`, expressions), as migration
operations that do nothing on SQLite, the embedded default.

Raw SQL rather than a Meta index because they are PostgreSQL-only; they change no model
state, so makemigrations stays quiet. Built CONCURRENTLY (the migration must say
`atomic = False`) so that a large table keeps taking writes while the index builds.
"""

import logging

from django.db import DatabaseError, migrations

log = logging.getLogger(__name__)


def _has_trigrams(cursor) -> bool:
    try:
        # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may add it.
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        log.warning(
            "pg_trgm is not available (%s): searches work without its indexes but read "
            "every row. Run CREATE EXTENSION pg_trgm as a superuser, then migrate again.",
            error,
        )
        return False
    return True


def postgres_index(name: str, table: str, definition: str) -> migrations.RunPython:
    """CREATE INDEX CONCURRENTLY name ON table `definition`, e.g.
    "USING gin (UPPER(body) gin_trgm_ops)"; dropped again on reverse."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            if "gin_trgm_ops" in definition and not _has_trigrams(cursor):
                return
            create_sql = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} {definition}"
            cursor.execute(create_sql)

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")

    return migrations.RunPython(create, drop, elidable=False)
