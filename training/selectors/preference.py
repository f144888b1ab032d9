"""Reads for blind preference studies: the statistics of a study's votes, and what a
training run's page shows about them."""

from training.core import preference as core
from training.models import PreferenceStudy, PreferenceVote, TrainingRun


def preference_study_stats(study: PreferenceStudy) -> core.PreferenceStats:
    """The study's votes, unblinded, as rates, intervals, counts and a verdict."""
    votes = PreferenceVote.objects.filter(item__study=study).values_list(
        "item_id", "choice", "item__tuned_side"
    )
    return core.preference_stats(
        (item_id, core.unblind(choice, side)) for item_id, choice, side in votes
    )


def preference_study_latest(training_run: TrainingRun) -> PreferenceStudy | None:
    return training_run.preference_studies.select_related("created_by").first()


def preference_unavailable_reason(training_run: TrainingRun) -> str:
    """Why a study cannot be made from this run ('' when it can)."""
    try:
        core.comparison_pairs(training_run.comparison, task_type=training_run.task_type)
    except core.PreferenceError as exc:
        return str(exc)
    return ""


def preference_summary(training_run: TrainingRun) -> dict:
    """The run page's "Blind preference" section: the latest study with its statistics,
    how many pairs a new one may take, or why there can be none."""
    reason = preference_unavailable_reason(training_run)
    study = preference_study_latest(training_run)
    summary: dict = {"unavailable": reason, "study": study, "stats": None, "max_size": 0}
    if not reason:
        pairs = core.comparison_pairs(training_run.comparison, task_type=training_run.task_type)
        summary["max_size"] = sum(p.tuned.strip() != p.base.strip() for p in pairs)
    if study is not None:
        summary["stats"] = preference_study_stats(study).as_dict()
        summary["vote_count"] = summary["stats"]["votes"]["total"]
    return summary
