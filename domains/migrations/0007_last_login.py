import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F

# Dovecot's last_login dict writes last_login (as the quota role, which may not touch mailbox);
# the trigger copies each write to mailbox.last_login_at with its owner's rights (SECURITY
# DEFINER, fixed search_path), so the lists sort and filter on mailbox's own indexes.
LAST_LOGIN_TO_MAILBOX = """
CREATE FUNCTION last_login_to_mailbox() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE mailbox SET last_login_at = to_timestamp(NEW.last_login)
    WHERE address = NEW.username AND last_login_at IS DISTINCT FROM to_timestamp(NEW.last_login);
    RETURN NULL;
END $$;
CREATE TRIGGER last_login_to_mailbox AFTER INSERT OR UPDATE OF last_login ON last_login
    FOR EACH ROW EXECUTE FUNCTION last_login_to_mailbox();
"""
LAST_LOGIN_TO_MAILBOX_UNDO = ("DROP TRIGGER IF EXISTS last_login_to_mailbox ON last_login; "
                              "DROP FUNCTION IF EXISTS last_login_to_mailbox();")


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0006_deleted_maildir"),
    ]

    operations = [
        migrations.AddField(
            model_name="mailbox",
            name="last_login_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last login"),
        ),
        migrations.AddIndex(
            model_name="mailbox",
            index=models.Index(F("last_login_at").asc(nulls_first=True), F("id"), name="mailbox_last_login"),
        ),
        migrations.AddIndex(
            model_name="mailbox",
            index=models.Index(F("domain"), F("last_login_at").asc(nulls_first=True), F("id"),
                               name="mailbox_domain_last_login"),
        ),
        migrations.CreateModel(
            name="LastLogin",
            fields=[
                ("mailbox", models.OneToOneField(db_column="username", on_delete=django.db.models.deletion.CASCADE,
                                                 primary_key=True, related_name="login_record", serialize=False,
                                                 to="domains.mailbox", to_field="address", verbose_name="mailbox")),
                ("last_login", models.BigIntegerField(verbose_name="last login (Unix time, seconds)")),
            ],
            options={
                "verbose_name": "last login",
                "verbose_name_plural": "last logins",
                "db_table": "last_login",
            },
        ),
        migrations.RunSQL(LAST_LOGIN_TO_MAILBOX, LAST_LOGIN_TO_MAILBOX_UNDO),
    ]
