"""The table behind Django's database cache (settings.CACHES), shared by every panel node.

The same table `manage.py createcachetable` would make, created by `migrate` so that no
deployment step can be forgotten."""
from django.db import migrations

CREATE = """
CREATE TABLE IF NOT EXISTS "mailadmin_cache" (
    "cache_key" varchar(255) NOT NULL PRIMARY KEY,
    "value" text NOT NULL,
    "expires" timestamp with time zone NOT NULL
);
CREATE INDEX IF NOT EXISTS "mailadmin_cache_expires" ON "mailadmin_cache" ("expires");
"""


class Migration(migrations.Migration):
    dependencies = []

    operations = [migrations.RunSQL(CREATE, reverse_sql='DROP TABLE IF EXISTS "mailadmin_cache";')]
