"""Database triggers that make approved dataset versions immutable.

The services already refuse to change an approved version; these triggers make the
database refuse too, so no code path, admin action or stray SQL can edit one quietly.
A member row of an approved version can be neither inserted, updated nor deleted, and an
approved version row itself can be neither updated nor deleted.
"""

from django.db import migrations

MESSAGE = "dataset version is approved and immutable"

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER assay_version_approved_no_update BEFORE UPDATE ON curation_datasetversion
    WHEN OLD.status = 'approved'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
    f"""
    CREATE TRIGGER assay_version_approved_no_delete BEFORE DELETE ON curation_datasetversion
    WHEN OLD.status = 'approved'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
    f"""
    CREATE TRIGGER assay_member_approved_no_insert BEFORE INSERT ON curation_datasetversionmember
    WHEN (SELECT status FROM curation_datasetversion WHERE id = NEW.version_id) = 'approved'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
    f"""
    CREATE TRIGGER assay_member_approved_no_update BEFORE UPDATE ON curation_datasetversionmember
    WHEN (SELECT status FROM curation_datasetversion WHERE id = OLD.version_id) = 'approved'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
    f"""
    CREATE TRIGGER assay_member_approved_no_delete BEFORE DELETE ON curation_datasetversionmember
    WHEN (SELECT status FROM curation_datasetversion WHERE id = OLD.version_id) = 'approved'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;
    """,
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS assay_{name}"
    for name in (
        "version_approved_no_update",
        "version_approved_no_delete",
        "member_approved_no_insert",
        "member_approved_no_update",
        "member_approved_no_delete",
    )
]

# 23001 is restrict_violation: drivers raise it as an IntegrityError, like SQLite's ABORT.
POSTGRES_CREATE = [
    f"""
    CREATE FUNCTION assay_refuse_approved_version() RETURNS trigger AS $$
    BEGIN
        IF OLD.status = 'approved' THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = '23001';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END; $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER assay_version_approved_immutable
    BEFORE UPDATE OR DELETE ON curation_datasetversion
    FOR EACH ROW EXECUTE FUNCTION assay_refuse_approved_version();
    """,
    f"""
    CREATE FUNCTION assay_refuse_approved_member() RETURNS trigger AS $$
    DECLARE
        target_version bigint;
    BEGIN
        IF TG_OP = 'INSERT' THEN target_version := NEW.version_id;
        ELSE target_version := OLD.version_id; END IF;
        IF (SELECT status FROM curation_datasetversion WHERE id = target_version) = 'approved'
        THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = '23001';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END; $$ LANGUAGE plpgsql;
    """,
    """
    CREATE TRIGGER assay_member_approved_immutable
    BEFORE INSERT OR UPDATE OR DELETE ON curation_datasetversionmember
    FOR EACH ROW EXECUTE FUNCTION assay_refuse_approved_member();
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS assay_member_approved_immutable ON curation_datasetversionmember",
    "DROP FUNCTION IF EXISTS assay_refuse_approved_member()",
    "DROP TRIGGER IF EXISTS assay_version_approved_immutable ON curation_datasetversion",
    "DROP FUNCTION IF EXISTS assay_refuse_approved_version()",
]

STATEMENTS = {
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
    "postgresql": (POSTGRES_CREATE, POSTGRES_DROP),
}


def create_triggers(apps, schema_editor):
    create, _ = STATEMENTS[schema_editor.connection.vendor]
    for statement in create:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    _, drop = STATEMENTS[schema_editor.connection.vendor]
    for statement in drop:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("curation", "0001_initial")]
    operations = [migrations.RunPython(create_triggers, drop_triggers)]
