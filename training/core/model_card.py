"""The model card: what was trained, on what, how, and how well (Markdown)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class CardInfo:
    title: str
    task_type: str
    base_model: str
    method: str
    artifact_kind: str
    version_number: int
    version_hash: str
    code_version: str
    config: dict
    result: dict


def _system_rows(comparison: dict) -> list[str]:
    rows = []
    for name, system in comparison["systems"].items():
        label = system.get("name", name.replace("_", " "))
        scores = ", ".join(
            f"{key} {value:.4g}"
            for key, value in system["metrics"].items()
            if isinstance(value, int | float)
        )
        rows.append(f"| {label} | {scores} |")
    return rows


def render_model_card(info: CardInfo) -> str:
    result = info.result
    lines = [
        f"# {info.title}: fine-tuned {info.task_type} model",
        "",
        f"- Base model: `{info.base_model}`",
        f"- Method: {info.method} ({info.artifact_kind})",
        f"- Data: dataset version {info.version_number}, SHA-256 `{info.version_hash}`",
        f"- Code version: `{info.code_version or 'unknown'}`",
        f"- Steps: {result.get('global_step')}; best checkpoint: "
        f"`{result.get('best_checkpoint')}` ({result.get('best_metric')})",
        "",
    ]
    comparison = result.get("comparison")
    if comparison:
        lines += [
            f"## Test split ({comparison['examples']} examples)",
            "",
            "| system | metrics |",
            "|---|---|",
            *_system_rows(comparison),
            "",
            f"**Verdict:** {comparison['verdict']}",
            "",
        ]
    forgetting = result.get("forgetting") or {}
    if forgetting.get("applicable"):
        lines += [
            "## Forgetting check",
            "",
            f"Perplexity on {forgetting['holdout_passages']} general-domain passages: "
            f"{forgetting['perplexity_before']:.2f} before, {forgetting['perplexity_after']:.2f} "
            f"after ({forgetting['change_percent']:+.1f}%).",
            "",
        ]
    lines += ["## Configuration", "", "```"]
    lines += [f"{key}: {value}" for key, value in sorted(info.config.items())]
    lines += ["```", "", "## Limitations", ""]
    lines.append(
        "Scores are on this version's test split only; they say nothing about data unlike it. "
        "Review outputs before use."
    )
    return "\n".join(lines) + "\n"
