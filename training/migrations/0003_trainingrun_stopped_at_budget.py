from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0002_preference_studies"),
    ]

    operations = [
        migrations.AddField(
            model_name="trainingrun",
            name="stopped_at_budget",
            field=models.BooleanField(
                default=False,
                help_text="Training ended at the config's time budget (max_minutes).",
            ),
        ),
    ]
