"""Database triggers that make the audit log append-only, and the approved-version
triggers of migration 0002 recreated with the same maintenance switch.

An `AuditEvent` row can be inserted, never updated or deleted. The one deliberate way
around it is a row in ``assay_maintenance_unlock`` (a table no model maps, so nothing in
the application writes it): an operator inserts one for a documented purge, or the test
suite before it flushes its database. SQLite rebuilds a table when a column is added
(migration 0005), dropping its triggers, so the version triggers are recreated here too.
On PostgreSQL the triggers are row-level: TRUNCATE, the table owner's tool, is not
refused.
"""

from django.db import migrations

AUDIT_MESSAGE = "the audit log is append-only"
VERSION_MESSAGE = "dataset version is approved and immutable"
UNLOCKED = "EXISTS (SELECT 1 FROM assay_maintenance_unlock)"
UNLOCK_TABLE = "CREATE TABLE IF NOT EXISTS assay_maintenance_unlock (reason varchar(200))"


def _sqlite_trigger(name: str, event: str, table: str, condition: str, message: str) -> str:
    return f"""
    CREATE TRIGGER {name} BEFORE {event} ON {table}
    WHEN ({condition}) AND NOT {UNLOCKED}
    BEGIN SELECT RAISE(ABORT, '{message}'); END;
    """


VERSION_STATUS_OF = "(SELECT status FROM curation_datasetversion WHERE id = {}.version_id)"
SQLITE_TRIGGERS = {
    "assay_audit_no_update": ("UPDATE", "curation_auditevent", "1", AUDIT_MESSAGE),
    "assay_audit_no_delete": ("DELETE", "curation_auditevent", "1", AUDIT_MESSAGE),
    "assay_version_approved_no_update": (
        "UPDATE", "curation_datasetversion", "OLD.status = 'approved'", VERSION_MESSAGE
    ),
    "assay_version_approved_no_delete": (
        "DELETE", "curation_datasetversion", "OLD.status = 'approved'", VERSION_MESSAGE
    ),
    "assay_member_approved_no_insert": (
        "INSERT", "curation_datasetversionmember",
        VERSION_STATUS_OF.format("NEW") + " = 'approved'", VERSION_MESSAGE,
    ),
    "assay_member_approved_no_update": (
        "UPDATE", "curation_datasetversionmember",
        VERSION_STATUS_OF.format("OLD") + " = 'approved'", VERSION_MESSAGE,
    ),
    "assay_member_approved_no_delete": (
        "DELETE", "curation_datasetversionmember",
        VERSION_STATUS_OF.format("OLD") + " = 'approved'", VERSION_MESSAGE,
    ),
}  # fmt: skip

POSTGRES_CREATE = [
    f"""
    CREATE FUNCTION assay_refuse_audit_change() RETURNS trigger AS $$
    BEGIN
        IF NOT {UNLOCKED} THEN
            RAISE EXCEPTION '{AUDIT_MESSAGE}' USING ERRCODE = '23001';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END; $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER assay_audit_append_only
    BEFORE UPDATE OR DELETE ON curation_auditevent
    FOR EACH ROW EXECUTE FUNCTION assay_refuse_audit_change();
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS assay_audit_append_only ON curation_auditevent",
    "DROP FUNCTION IF EXISTS assay_refuse_audit_change()",
]


def create_triggers(apps, schema_editor):
    schema_editor.execute(UNLOCK_TABLE)
    if schema_editor.connection.vendor == "sqlite":
        for name, (event, table, condition, message) in SQLITE_TRIGGERS.items():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
            schema_editor.execute(_sqlite_trigger(name, event, table, condition, message))
    elif schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_CREATE:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            if name.startswith("assay_audit"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("curation", "0005_governance")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
