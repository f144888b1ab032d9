"""Template filters for runs."""

from django import template

from curation.services.runs import run_kind_title

register = template.Library()


@register.filter
def run_title(kind: str) -> str:
    """A run kind's name as its app registered it ("label_model_fit" → "Label model fit")."""
    return run_kind_title(kind)
