"""Forms for the pages: they validate and tidy input; the services do the work."""

from django import forms

from curation.models import (
    DatasetVersion,
    ExampleSource,
    ExportFormat,
    ReviewStatus,
    Role,
    Split,
    TaskType,
)

IMPORT_FORMATS = [
    ("auto", "Detect from the file name"),
    ("csv", "CSV"),
    ("tsv", "TSV"),
    ("jsonl", "JSON Lines"),
    ("parquet", "Parquet"),
    ("hf_dataset", "Saved Hugging Face dataset"),
]


def comma_list(value: str) -> list[str]:
    """'a, b,,c ' -> ['a', 'b', 'c']"""
    return [part.strip() for part in value.split(",") if part.strip()]


class ProjectCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    task_type = forms.ChoiceField(choices=TaskType.choices)
    labels = forms.CharField(
        required=False,
        help_text="Classification only: the label names, comma-separated (e.g. ham, spam).",
    )
    field_names = forms.CharField(
        required=False,
        label="Fields",
        help_text="Content field names, comma-separated. Default: text (classification), "
        "prompt, response (generation).",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean_labels(self) -> list[str]:
        return comma_list(self.cleaned_data["labels"])

    def clean_field_names(self) -> list[str]:
        return comma_list(self.cleaned_data["field_names"])


class ImportForm(forms.Form):
    """Upload a file and say how its columns map onto the project's fields.

    One ``map_<field>`` input per content field of the project, plus the label and id columns.
    """

    file = forms.FileField()
    format = forms.ChoiceField(choices=IMPORT_FORMATS, initial="auto")
    map_label = forms.CharField(
        required=False, label="Label column", help_text="Blank: the file has no labels."
    )
    map_id = forms.CharField(
        required=False, label="Id column", help_text="Blank: ids are made from the content."
    )
    has_header = forms.BooleanField(required=False, initial=True, label="First row is a header")
    columns = forms.CharField(
        required=False,
        label="Column names",
        help_text="For files without a header row: the names of the columns, comma-separated.",
    )
    delimiter = forms.CharField(
        required=False,
        max_length=3,
        strip=False,
        help_text="Blank: guessed (comma for CSV, tab for TSV). Type \\t for a tab.",
    )
    no_quoting = forms.BooleanField(
        required=False, label="No quoting", help_text="Quote characters are ordinary text."
    )
    encoding = forms.CharField(initial="utf-8", max_length=40)
    split = forms.CharField(
        required=False, label="Dataset split", help_text="For a Hugging Face DatasetDict."
    )
    synthetic_generator = forms.CharField(
        required=False,
        label="Synthetic: generator",
        help_text="Set to import synthetic examples (pending review), e.g. 'gpt-4o-mini'. "
        "Map a 'parent' column by naming it parent.",
    )

    def __init__(self, *args, project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.content_fields = list(project.content_fields)
        mapped = {
            f"map_{name}": forms.CharField(
                required=False,
                label=f"Column for “{name}”",
                initial=name,
                max_length=255,
                help_text="Blank: the column of the same name.",
            )
            for name in self.content_fields
        }
        # Content fields first, so the form reads in the order a user thinks about it.
        self.fields = {
            "file": self.fields["file"],
            "format": self.fields["format"],
            **mapped,
            **{k: v for k, v in self.fields.items() if k not in ("file", "format")},
        }
        if not project.is_classification:
            self.fields["map_label"].help_text = "Generation projects usually have none."

    def mapping_fields(self):
        return [self[f"map_{name}"] for name in [*self.content_fields, "label", "id"]]

    def clean_delimiter(self) -> str | None:
        value = self.cleaned_data["delimiter"]
        if value in ("\\t", "tab"):
            return "\t"
        if value and len(value) != 1:
            raise forms.ValidationError("A delimiter is one character (or \\t for a tab).")
        return value or None

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("has_header") and not comma_list(cleaned.get("columns") or ""):
            if cleaned.get("format") in ("csv", "tsv"):
                self.add_error("columns", "A file without a header row needs column names.")
        return cleaned

    def options_kwargs(self) -> dict:
        """Keyword arguments for `ImportOptions`."""
        data = self.cleaned_data
        mapping = {
            name: data[f"map_{name}"].strip()
            for name in [*self.content_fields, "label", "id"]
            if data.get(f"map_{name}", "").strip()
        }
        return {
            "format": data["format"],
            "mapping": mapping,
            "has_header": data["has_header"],
            "columns": comma_list(data["columns"]) or None,
            "delimiter": data["delimiter"],
            "quoting": not data["no_quoting"],
            "encoding": data["encoding"].strip() or "utf-8",
            "split": data["split"].strip() or None,
            "synthetic": {"generator": generator}
            if (generator := data.get("synthetic_generator", "").strip())
            else None,
        }


class ExampleFilterForm(forms.Form):
    """The example browser's filters, read from the query string."""

    search = forms.CharField(required=False, label="Text contains")
    source = forms.ChoiceField(required=False, choices=[("", "Any source"), *ExampleSource.choices])
    label = forms.ChoiceField(required=False)
    version = forms.ModelChoiceField(
        required=False, queryset=DatasetVersion.objects.none(), empty_label="Any version"
    )
    split = forms.ChoiceField(required=False, choices=[("", "Any split"), *Split.choices])
    review = forms.ChoiceField(
        required=False, label="Review", choices=[("", "Any review"), *ReviewStatus.choices]
    )
    ids = forms.CharField(
        required=False,
        label="Ids",
        help_text="Comma-separated example ids (the readiness report links with these).",
    )

    def __init__(self, *args, project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = list(project.label_set)
        self.fields["label"].choices = [("", "Any label"), *[(v, v) for v in labels]]
        self.fields["version"].queryset = project.versions.order_by("-number")
        self.fields["version"].label_from_instance = lambda v: f"v{v.number} ({v.status})"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("split") and not cleaned.get("version"):
            self.add_error("split", "Splits exist only within a version: choose one.")
        return cleaned

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "source": data.get("source") or None,
            "label": data.get("label") or None,
            "version": data.get("version"),
            "split": data.get("split") or None,
            "search": (data.get("search") or "").strip() or None,
            "review": data.get("review") or None,
            "external_ids": comma_list(data.get("ids") or "") or None,
        }


class VersionBuildForm(forms.Form):
    seed = forms.IntegerField(initial=0, help_text="The same seed and data give the same splits.")
    note = forms.CharField(required=False, max_length=500)


class VersionReviewForm(forms.Form):
    ACTIONS = [("submit", "Submit for review"), ("approve", "Approve"), ("reject", "Reject")]

    action = forms.ChoiceField(choices=ACTIONS)
    comment = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override_reason = forms.CharField(
        required=False,
        label="Override reason",
        help_text="Needed to approve while a readiness check fails; kept with the version.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "reject" and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", "Say why the version is rejected.")
        return cleaned


class ExportForm(forms.Form):
    formats = forms.MultipleChoiceField(
        choices=ExportFormat.choices,
        initial=ExportFormat.values,
        widget=forms.CheckboxSelectMultiple,
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'CI export'.")


class MemberForm(forms.Form):
    """Add a user to a project, or change their role."""

    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices)


class AuditFilterForm(forms.Form):
    action = forms.CharField(required=False, help_text="A prefix, e.g. 'version' or 'label'.")
    actor = forms.CharField(required=False, label="Who", help_text="A username.")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "action": (data.get("action") or "").strip() or None,
            "actor": (data.get("actor") or "").strip() or None,
            "since": data.get("since"),
            "until": data.get("until"),
        }


class SyntheticGenerateForm(forms.Form):
    label = forms.CharField(required=False, help_text="Only seeds with this label; blank: any.")
    limit = forms.IntegerField(initial=20, min_value=1, max_value=1000, label="Seed examples")
    per_example = forms.IntegerField(initial=1, min_value=1, max_value=10, label="Variants each")
    methods = forms.MultipleChoiceField(
        choices=[(m, m) for m in ("synonym", "template", "drop", "swap")],
        initial=["synonym", "template"],
        widget=forms.CheckboxSelectMultiple,
    )
    seed = forms.IntegerField(initial=0)
    use_endpoint = forms.BooleanField(
        required=False, label="Use the configured OpenAI-compatible endpoint"
    )


class SyntheticDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept"), ("reject", "Reject"), ("edit", "Edit")]
    )
    label = forms.CharField(required=False)
    note = forms.CharField(required=False)
