"""The LF editor's form: one set of inputs for every declarative kind; `params()` keeps
the ones the chosen kind reads. The services validate the rule itself."""

from django import forms

from curation.models import Project
from curation.weak_supervision.models import LFKind
from curation.weak_supervision.selectors.functions import project_vote_labels

DECLARATIVE_KINDS = [(k, v) for k, v in LFKind.choices if k != LFKind.PYTHON]
KIND_PARAMS = {
    "keyword": ("keywords", "mode", "case_sensitive", "whole_word"),
    "regex": ("pattern", "case_sensitive"),
    "length": ("unit", "min", "max"),
    "field_overlap": ("other", "min", "max"),
    "stopword_share": ("min", "max"),
}


class LabelingFunctionForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Letters, digits, _ and -: keyword_my.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(choices=DECLARATIVE_KINDS)
    label = forms.ChoiceField(help_text="What it votes where the rule holds; else it abstains.")
    field = forms.ChoiceField(help_text="The content field the rule reads.")
    keywords = forms.CharField(required=False, help_text="Keywords: comma-separated.")
    mode = forms.ChoiceField(
        choices=[("any", "any keyword"), ("all", "all keywords")], required=False
    )
    case_sensitive = forms.BooleanField(required=False)
    whole_word = forms.BooleanField(required=False, initial=True)
    pattern = forms.CharField(required=False, help_text="Regular expression (Python syntax).")
    unit = forms.ChoiceField(choices=[("chars", "characters"), ("words", "words")], required=False)
    min = forms.FloatField(required=False, help_text="Lower bound (lengths, shares 0–1).")
    max = forms.FloatField(required=False, help_text="Upper bound.")
    other = forms.ChoiceField(
        required=False, help_text="Overlap: whose words to look for in the field."
    )

    def __init__(self, *args, project: Project, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        labels = project_vote_labels(project)
        fields = [(name, name) for name in project.content_fields]
        self.fields["label"].choices = [(label, label) for label in labels]
        self.fields["field"].choices = fields
        self.fields["other"].choices = [("", "—"), *fields]

    def params(self) -> dict:
        data = self.cleaned_data
        params = {"field": data["field"]}
        for name in KIND_PARAMS[data["kind"]]:
            value = data.get(name)
            if name == "keywords":
                value = [k.strip() for k in (value or "").split(",") if k.strip()]
            if name in ("min", "max") and value is not None and data["kind"] == "length":
                value = int(value)
            if value not in (None, ""):
                params[name] = value
        return params

    @staticmethod
    def initial_from(lf) -> dict:
        version = lf.latest_version
        params = dict(version.params)
        if isinstance(params.get("keywords"), list):
            params["keywords"] = ", ".join(params["keywords"])
        return {
            "name": lf.name,
            "description": lf.description,
            "kind": version.kind,
            "label": version.label,
            **params,
        }


class ModuleForm(forms.Form):
    module_path = forms.CharField(
        required=False,
        max_length=255,
        label="Python LF module",
        help_text="Dotted path on the server's Python path, e.g. myteam.spam_lfs; empty: none.",
    )


class ReviewForm(forms.Form):
    threshold = forms.FloatField(min_value=0.01, max_value=1.0, initial=0.7)
