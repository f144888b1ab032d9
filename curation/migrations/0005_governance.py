"""Governance fields: synthetic review on examples, readiness and override on versions,
per-project thresholds, and the audit log.

SQLite adds a column by rebuilding the table, and a trigger that names the table being
rebuilt breaks the rename; the approved-version triggers of 0002 are dropped first and
recreated by 0006.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


SQLITE_TRIGGERS_0002 = (
    "assay_version_approved_no_update",
    "assay_version_approved_no_delete",
    "assay_member_approved_no_insert",
    "assay_member_approved_no_update",
    "assay_member_approved_no_delete",
)


def drop_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in SQLITE_TRIGGERS_0002:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('curation', '0004_label_lead_time_and_meta'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_sqlite_triggers, migrations.RunPython.noop),
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('actor_name', models.CharField(blank=True, help_text="Username at the time, or the system's name.", max_length=255)),
                ('action', models.CharField(help_text="What happened, e.g. 'version.approve'.", max_length=60)),
                ('target_type', models.CharField(blank=True, max_length=60)),
                ('target_id', models.CharField(blank=True, max_length=64)),
                ('before', models.JSONField(blank=True, null=True)),
                ('after', models.JSONField(blank=True, null=True)),
                ('message', models.TextField(blank=True)),
                ('at', models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
            options={
                'ordering': ['-at', '-id'],
            },
        ),
        migrations.AddField(
            model_name='datasetversion',
            name='override_reason',
            field=models.TextField(blank=True, help_text='Why the version was approved although a readiness check failed.'),
        ),
        migrations.AddField(
            model_name='datasetversion',
            name='readiness',
            field=models.JSONField(blank=True, default=dict, help_text='The last readiness report (curation.core.readiness).'),
        ),
        migrations.AddField(
            model_name='datasetversion',
            name='readiness_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='example',
            name='near_duplicate_of',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='curation.example'),
        ),
        migrations.AddField(
            model_name='example',
            name='near_duplicate_score',
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='example',
            name='review_history',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name='example',
            name='review_status',
            field=models.CharField(choices=[('not_required', 'Not required'), ('pending', 'Pending review'), ('accepted', 'Accepted'), ('rejected', 'Rejected')], default='not_required', max_length=20),
        ),
        migrations.AddField(
            model_name='example',
            name='reviewed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='example',
            name='reviewed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='project',
            name='min_version_size',
            field=models.PositiveIntegerField(default=10000, help_text='The readiness report warns below this many examples.'),
        ),
        migrations.AddField(
            model_name='project',
            name='readiness_thresholds',
            field=models.JSONField(blank=True, default=dict, help_text="Overrides of the readiness report's thresholds (see curation.core.readiness)."),
        ),
        migrations.AddField(
            model_name='project',
            name='synthetic_share_cap',
            field=models.FloatField(default=0.3, help_text="Largest share of a version's examples that may be synthetic."),
        ),
        migrations.AddIndex(
            model_name='example',
            index=models.Index(fields=['project', 'review_status'], name='curation_ex_project_feee83_idx'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='project',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='audit_events', to='curation.project'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='version',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='audit_events', to='curation.datasetversion'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['project', '-at'], name='curation_au_project_221464_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['project', 'action'], name='curation_au_project_a4933f_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['target_type', 'target_id'], name='curation_au_target__36ddf2_idx'),
        ),
    ]
