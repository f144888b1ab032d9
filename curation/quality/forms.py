"""Forms of the data-quality pages."""

from django import forms

from curation.quality.core.expectations import PII_PATTERNS
from curation.quality.core.label_issues import DEFAULT_FILTER, DEFAULT_MODEL
from curation.quality.models import ExpectationKind, FindingKind, FindingStatus
from curation.quality.services.checks import CHECKS

CHECK_CHOICES = [(c, c.replace("_", " ").capitalize()) for c in CHECKS]


class QualityCheckForm(forms.Form):
    version = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="Current examples (no version)"
    )
    checks = forms.MultipleChoiceField(
        choices=CHECK_CHOICES, initial=list(CHECKS), widget=forms.CheckboxSelectMultiple
    )
    model = forms.ChoiceField(
        choices=[
            ("ensemble", "TF-IDF and MiniLM models, averaged (default)"),
            ("tfidf", "TF-IDF + logistic regression"),
            ("minilm", "MiniLM embeddings"),
        ],
        initial=DEFAULT_MODEL,
        help_text="The cross-validated model behind label issues.",
    )
    folds = forms.IntegerField(min_value=2, max_value=20, initial=5)
    filter_by = forms.ChoiceField(
        label="Label issues chosen by",
        choices=[
            ("prune_by_noise_rate", "cleanlab: prune by noise rate (default)"),
            ("both", "cleanlab: noise rate and confident joint"),
            ("confident_learning", "cleanlab: confident joint off-diagonals"),
            ("normalized_margin", "estimated error count, lowest margin (label-errors paper)"),
        ],
        initial=DEFAULT_FILTER,
        required=False,  # older clients post without it: the default applies
    )

    def clean_filter_by(self) -> str:
        return self.cleaned_data["filter_by"] or DEFAULT_FILTER

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].queryset = project.versions.all()
        self.fields["version"].label_from_instance = lambda v: f"v{v.number} ({v.status})"


class FindingFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Any kind"), *FindingKind.choices], required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *FindingStatus.choices], required=False, initial="open"
    )
    min_score = forms.FloatField(required=False, min_value=0, label="Score at least")
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class FindingReviewForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("accept", "Accept"),
            ("resolve", "Resolve"),
            ("dismiss", "Dismiss"),
            ("reopen", "Reopen"),
        ]
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ExpectationRuleForm(forms.Form):
    kind = forms.ChoiceField(choices=ExpectationKind.choices)
    column = forms.CharField(initial="text", help_text="A content field, label or external_id.")
    min_length = forms.IntegerField(required=False, min_value=0)
    max_length = forms.IntegerField(required=False, min_value=0)
    patterns = forms.MultipleChoiceField(
        choices=[(name, name.replace("_", " ")) for name in PII_PATTERNS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="For the personal-data rule.",
    )
    regex = forms.CharField(required=False, help_text="For the pattern rule.")
    labels = forms.CharField(
        required=False, help_text="Comma-separated; empty takes the project's label set."
    )

    def params(self) -> dict:
        data = self.cleaned_data
        kind = data["kind"]
        if kind == ExpectationKind.LENGTH_BETWEEN:
            return {"min_length": data["min_length"], "max_length": data["max_length"]}
        if kind == ExpectationKind.NO_PII:
            return {"patterns": data["patterns"] or list(PII_PATTERNS)}
        if kind == ExpectationKind.NOT_MATCH_REGEX:
            return {"regex": data["regex"]}
        if kind == ExpectationKind.LABEL_IN_SET and data["labels"]:
            return {"labels": [x.strip() for x in data["labels"].split(",") if x.strip()]}
        return {}
