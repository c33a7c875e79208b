import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0007_local_parts_the_stack_serves"),
    ]

    operations = [
        migrations.CreateModel(
            name="LastLogin",
            fields=[
                ("mailbox", models.OneToOneField(db_column="username",
                                                 on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                                 related_name="last_login", serialize=False, to="domains.mailbox",
                                                 to_field="address", verbose_name="mailbox")),
                ("last_login", models.BigIntegerField(verbose_name="last login (Unix time, seconds)")),
            ],
            options={
                "verbose_name": "last login",
                "verbose_name_plural": "last logins",
                "db_table": "last_login",
                "indexes": [models.Index(fields=["last_login"], name="last_login_when")],
            },
        ),
    ]
