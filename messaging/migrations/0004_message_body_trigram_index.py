"""Search by message text on PostgreSQL: a trigram GIN index on UPPER(body).

The inbox search (messaging.conversations.search) matches `body__icontains`, which
PostgreSQL runs as `UPPER(body) LIKE UPPER('%text%')`: without this index, every search
reads every message (about 0.6 s at 1M messages, bench/inbox.py); with it, a search for
a number or an uncommon word reads only the matching rows.

Raw SQL rather than a Meta index because it is PostgreSQL-only (pg_trgm): SQLite, the
embedded default, is left as it is and searches as before. It changes no model state,
so makemigrations stays quiet. Built CONCURRENTLY (hence atomic = False) so that
messages keep arriving while it builds on a large table.
"""

import logging

from django.db import DatabaseError, migrations

INDEX = "messaging_message_body_upper_trgm"
log = logging.getLogger(__name__)


def create_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        try:
            # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may add it.
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except DatabaseError as error:
            log.warning(
                "pg_trgm is not available (%s): search by message text works without its "
                "index, but reads every message. Run CREATE EXTENSION pg_trgm as a superuser, "
                "then `manage.py migrate messaging 0003` and `manage.py migrate`.",
                error,
            )
            return
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
            "ON messaging_message USING gin (UPPER(body) gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("messaging", "0003_cannedreply")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
