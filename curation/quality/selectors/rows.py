"""The rows a quality check reads: a version's frozen members, or a project's examples."""

from dataclasses import dataclass

from curation.models import DatasetVersion, Project


@dataclass(frozen=True)
class QualityRow:
    example_id: int
    external_id: str
    fields: dict
    label: str
    split: str

    def text(self, field_names: list[str]) -> str:
        return "\n".join(str(self.fields.get(name) or "") for name in field_names).strip()

    def as_record(self, field_names: list[str]) -> dict:
        """The row as the expectation suite sees it: content fields, label, external id."""
        record = {name: str(self.fields.get(name) or "") for name in field_names}
        return {**record, "label": self.label, "external_id": self.external_id, "split": self.split}


def quality_rows(*, project: Project, version: DatasetVersion | None = None) -> list[QualityRow]:
    if version is not None:
        members = version.members.values_list(
            "example_id", "external_id", "fields", "label", "split"
        )
        return [QualityRow(*member) for member in members]
    examples = project.examples.order_by("id").values_list(
        "id", "external_id", "fields", "resolved_label"
    )
    return [QualityRow(*example, split="") for example in examples]
