"""Contact search on PostgreSQL (contacts.services.matching ORs these conditions; each
needs its own index for PostgreSQL to combine them instead of reading every contact):

- `search_name LIKE '%text%'` (a name anywhere): trigram GIN on search_name;
- `mobile_number LIKE '%digits%'` (the last digits of a number): trigram GIN;
- `UPPER(email_address) = UPPER(text)` (`iexact`): a B-tree on UPPER(email_address).

The exact number and the external reference already have unique indexes. SQLite is left
as it is. See txtcrm/pg_indexes.py.
"""

from django.db import migrations

from txtcrm.pg_indexes import postgres_index


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("contacts", "0001_initial")]

    operations = [
        postgres_index(
            "contacts_contact_search_name_trgm",
            "contacts_contact",
            "USING gin (search_name gin_trgm_ops)",
        ),
        postgres_index(
            "contacts_contact_mobile_number_trgm",
            "contacts_contact",
            "USING gin (mobile_number gin_trgm_ops)",
        ),
        postgres_index(
            "contacts_contact_email_upper",
            "contacts_contact",
            "(UPPER(email_address))",
        ),
    ]
