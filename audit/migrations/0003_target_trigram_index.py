"""The audit page's free-text filter on PostgreSQL: a trigram GIN index on UPPER(target).

`target__icontains` runs as `UPPER(target) LIKE UPPER('%text%')`: without this index a
rare word reads the whole log (a million entries) before the page has its 50 rows; with
it, only the matching entries. See txtcrm/pg_indexes.py.
"""

from django.db import migrations

from txtcrm.pg_indexes import postgres_index


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("audit", "0002_page_indexes")]

    operations = [
        postgres_index(
            "audit_target_upper_trgm",
            "audit_auditentry",
            "USING gin (UPPER(target) gin_trgm_ops)",
        )
    ]
