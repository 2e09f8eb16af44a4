"""Search by message text on PostgreSQL: a trigram GIN index on UPPER(body).

The inbox search (messaging.conversations.search) matches `body__icontains`, which
PostgreSQL runs as `UPPER(body) LIKE UPPER('%text%')`: without this index, every search
reads every message (about 0.6 s at 1M messages, bench/inbox.py); with it, a search for
a number or an uncommon word reads only the matching rows. See txtcrm/pg_indexes.py.
"""

from django.db import migrations

from txtcrm.pg_indexes import postgres_index


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("messaging", "0003_cannedreply")]

    operations = [
        postgres_index(
            "messaging_message_body_upper_trgm",
            "messaging_message",
            "USING gin (UPPER(body) gin_trgm_ops)",
        )
    ]
