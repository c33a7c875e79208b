from django.db import migrations, models


class Migration(migrations.Migration):
    """Alias domains a domain admin requests wait for a superadmin's approval (issue 11).

    Existing alias domains were accepted by the server before: they are marked approved, so an
    upgrade changes no routing. New rows default to unapproved.
    """

    dependencies = [("domains", "0003_search_and_count_indexes")]

    operations = [
        migrations.AddField(model_name="aliasdomain", name="approved",
                            field=models.BooleanField(default=True, verbose_name="approved")),
        migrations.AlterField(model_name="aliasdomain", name="approved",
                              field=models.BooleanField(default=False, verbose_name="approved")),
        migrations.AddConstraint(
            model_name="aliasdomain",
            constraint=models.CheckConstraint(condition=models.Q(("approved", True), ("active", False), _connector="OR"),
                                              name="alias_domain_active_only_when_approved"),
        ),
    ]
