import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

# What Dovecot's Sieve dict reads (docs/mailstack.md, "Vacation replies"): the reader role gets
# SELECT on this view only (domains/mailstack.py READER_TABLES), not on the vacation table.
VACATION_SIEVE_VIEW = """
CREATE VIEW vacation_sieve AS
SELECT m.address AS username, 'active'::text AS script_name, md5(v.script) AS data_id, v.script
FROM vacation v JOIN mailbox m ON m.id = v.mailbox_id JOIN domain d ON d.id = m.domain_id
WHERE v.active AND m.active AND d.active AND NOT d.backup_mx;
"""


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("domains", "0007_last_login"),
    ]

    operations = [
        migrations.CreateModel(
            name="Vacation",
            fields=[
                ("mailbox", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                 related_name="vacation", serialize=False, to="domains.mailbox",
                                                 verbose_name="mailbox")),
                ("active", models.BooleanField(default=False, verbose_name="on")),
                ("subject", models.CharField(max_length=200, verbose_name="subject")),
                ("body", models.TextField(max_length=10000, verbose_name="message")),
                ("first_day", models.DateField(blank=True, null=True, verbose_name="first day")),
                ("last_day", models.DateField(blank=True, null=True, verbose_name="last day")),
                ("days", models.PositiveSmallIntegerField(default=7, validators=[
                    django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(60)],
                    verbose_name="reply once every N days to the same sender")),
                ("script", models.TextField(editable=False, verbose_name="Sieve script")),
                ("modified", models.DateTimeField(auto_now=True, verbose_name="modified")),
            ],
            options={
                "verbose_name": "vacation reply",
                "verbose_name_plural": "vacation replies",
                "db_table": "vacation",
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("days__gte", 1), ("days__lte", 60)),
                                           name="vacation_days_range"),
                    models.CheckConstraint(condition=models.Q(("first_day__isnull", True), ("last_day__isnull", True),
                                                              ("last_day__gte", models.F("first_day")), _connector="OR"),
                                           name="vacation_last_day_after_first"),
                    models.CheckConstraint(condition=models.Q(("subject__regex", "[\x01-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"), _negated=True),
                                           name="vacation_subject_plain_text"),
                    models.CheckConstraint(condition=models.Q(("body__regex", "[\x01-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"), _negated=True),
                                           name="vacation_body_plain_text"),
                ],
            },
        ),
        migrations.RunSQL(VACATION_SIEVE_VIEW, "DROP VIEW IF EXISTS vacation_sieve;"),
    ]
