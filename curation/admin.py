"""Admin: a read-mostly window on the data. Approved versions and their members are
immutable (database triggers), so the admin offers no edits that would be refused."""

from django.contrib import admin

from curation.models import (
    ApiToken,
    DatasetExport,
    DatasetVersion,
    Example,
    ExportFile,
    Label,
    Project,
    Run,
)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "task_type", "created_at"]
    search_fields = ["name"]


class LabelInline(admin.TabularInline):
    model = Label
    extra = 0
    fields = ["value", "origin", "author", "confidence", "created_at"]
    readonly_fields = fields


@admin.register(Example)
class ExampleAdmin(admin.ModelAdmin):
    list_display = ["external_id", "project", "source", "resolved_label", "created_at"]
    list_filter = ["project", "source", "resolved_label_origin"]
    search_fields = ["external_id"]
    readonly_fields = ["content_hash", "resolved_label", "resolved_label_origin"]
    inlines = [LabelInline]


@admin.register(DatasetVersion)
class DatasetVersionAdmin(admin.ModelAdmin):
    list_display = ["project", "number", "status", "content_hash", "created_at"]
    list_filter = ["project", "status"]

    def has_change_permission(self, request, obj=None) -> bool:
        # Status changes go through the review services, which check transitions.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return obj is None or not obj.is_approved


class ExportFileInline(admin.TabularInline):
    model = ExportFile
    extra = 0
    readonly_fields = ["path", "sha256", "size_bytes"]


@admin.register(DatasetExport)
class DatasetExportAdmin(admin.ModelAdmin):
    list_display = ["version", "path", "created_at"]
    inlines = [ExportFileInline]


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "status", "project", "progress", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    readonly_fields = ["params", "result", "log", "error"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at"]
    readonly_fields = ["prefix", "key_digest", "last_used_at"]
