"""An index that finds the aliases naming an address with a recipient_delimiter extension
(bob+lists@example.org for bob@example.org), for deletes and renames (domains/references.py):
the GIN index on destinations only finds whole elements."""
import django.contrib.postgres.indexes
from django.db import migrations
from django.db.models import F, Func

# Each destination's leading run of [a-z0-9] and its domain: the same stem for bob@ and for
# bob+anything@, bob-anything@ (whatever the delimiter, which is never a letter or a digit), so
# a lookup by stems finds every candidate, and domains/references.py keeps the real matches.
# IMMUTABLE (regexp_replace is): it may index. plpgsql, so the planner never inlines it and
# the query's expression stays the index's.
STEMS = r"""
CREATE FUNCTION alias_destination_stems(destinations varchar[]) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN ARRAY(SELECT regexp_replace(x, '^([a-z0-9]*)[^@]*@', '\1@') FROM unnest(destinations) x);
END $$
"""


class Migration(migrations.Migration):

    dependencies = [
        ('domains', '0007_last_login'),
    ]

    operations = [
        migrations.RunSQL(STEMS, "DROP FUNCTION alias_destination_stems(varchar[])"),
        migrations.AddIndex(
            model_name='alias',
            index=django.contrib.postgres.indexes.GinIndex(Func(F('destinations'), function='alias_destination_stems'),
                                                           fastupdate=False, name='alias_destination_stems_gin'),
        ),
    ]
