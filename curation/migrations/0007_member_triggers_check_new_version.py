"""The approved-member triggers also look at the version a row moves *to*.

Migrations 0002 and 0006 refused an UPDATE of a member row only when the row's old
version was approved, so ``UPDATE curation_datasetversionmember SET version_id = <an
approved version>`` re-pointed a draft's member and added it to an approved version. An
UPDATE is now refused when either the old or the new version is approved, on SQLite and
PostgreSQL alike. The SQLite trigger keeps 0006's maintenance switch.
"""

from django.db import migrations

MESSAGE = "dataset version is approved and immutable"
UNLOCKED = "EXISTS (SELECT 1 FROM assay_maintenance_unlock)"
STATUS_OF = "(SELECT status FROM curation_datasetversion WHERE id = {}.version_id)"


def _sqlite_update_trigger(condition: str) -> str:
    return f"""
    CREATE TRIGGER assay_member_approved_no_update BEFORE UPDATE ON curation_datasetversionmember
    WHEN ({condition}) AND NOT {UNLOCKED}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """


SQLITE_OLD_ONLY = _sqlite_update_trigger(STATUS_OF.format("OLD") + " = 'approved'")
SQLITE_OLD_OR_NEW = _sqlite_update_trigger(
    f"{STATUS_OF.format('OLD')} = 'approved' OR {STATUS_OF.format('NEW')} = 'approved'"
)


def _postgres_member_function(checks_new_on_update: bool) -> str:
    new_check = "TG_OP IN ('INSERT', 'UPDATE')" if checks_new_on_update else "TG_OP = 'INSERT'"
    return f"""
    CREATE OR REPLACE FUNCTION assay_refuse_approved_member() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND (
            SELECT status FROM curation_datasetversion WHERE id = OLD.version_id
        ) = 'approved' THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = '23001';
        END IF;
        IF {new_check} AND (
            SELECT status FROM curation_datasetversion WHERE id = NEW.version_id
        ) = 'approved' THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = '23001';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END; $$ LANGUAGE plpgsql;
    """


def _install(schema_editor, *, checks_new: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS assay_member_approved_no_update")
        schema_editor.execute(SQLITE_OLD_OR_NEW if checks_new else SQLITE_OLD_ONLY)
    elif vendor == "postgresql":
        schema_editor.execute(_postgres_member_function(checks_new))


def forwards(apps, schema_editor):
    _install(schema_editor, checks_new=True)


def backwards(apps, schema_editor):
    _install(schema_editor, checks_new=False)


class Migration(migrations.Migration):
    dependencies = [("curation", "0006_audit_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
