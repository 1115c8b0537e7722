"""``annotate learn``: a classifier per field from the last pull's final labels.

The labels are the ones ``annotate summarize`` reports (``sentence_labels``: adjudicated >
gold > majority > Dawid–Skene on a tie), computed afresh from the pull with the same functions,
so a stale ``sentence_labels.csv`` never trains a model. Every stance field and the sentence
type is trained when it has enough labels (``annotate.model.evaluate.check_trainable``); a field
that has not is skipped with its reason in the card. When no field can be trained, nothing is
written and the error says why. The model folder is ``exports/<name>/model/``
(``annotate.model.store``); the previous run's card, if any, is read first so that the new
figures can be shown beside the old ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from annotate.config import ProjectConfig
from annotate.errors import ExportError, InputError
from annotate.files import DEFAULT_OUT, read_table, write_parquet
from annotate.ingest.cues import suggestion_rules
from annotate.model.card import ModelCard, compare, train_fields
from annotate.model.classifier import SentenceClassifier
from annotate.model.store import CARD_FILE, save_model
from annotate.model.suggest import SuggestResult, push_suggestions
from annotate.quality.anchoring import SUGGESTION_RECORD_COLUMNS
from annotate.quality.answers import CountedAnswers
from annotate.quality.tables import SUMMARY_ANNOTATION_COLUMNS, final_labels
from annotate.studio.client import Studio
from annotate.studio.pull import load_pulled

__all__ = ["MODEL_DIR", "SUGGESTIONS_FILE", "LearnResult", "learn", "previous_card"]

MODEL_DIR = "model"
#: The record of every suggestion (what the model said, whether it was shown), for the anchoring check.
SUGGESTIONS_FILE = "suggestions.parquet"


@dataclass(frozen=True)
class LearnResult:
    """Where the model went, its card, the previous run's card (None on the first run), one
    line per field comparing the two (``annotate.model.card.compare``) and, when suggestions
    were pushed, what ``annotate.model.suggest.push_suggestions`` did."""

    folder: Path
    card: ModelCard
    previous: ModelCard | None
    lines: list[str]
    suggestions: SuggestResult | None = None


def _keep_records(path: Path, new: pd.DataFrame) -> None:
    """Add this run's suggestion records to the earlier runs' (this run's win for the same sentence
    and field): a sentence labelled after an earlier run keeps the record of what it was shown."""
    old = read_table(path) if path.exists() else pd.DataFrame(columns=SUGGESTION_RECORD_COLUMNS)
    both = pd.concat([old[SUGGESTION_RECORD_COLUMNS], new[SUGGESTION_RECORD_COLUMNS]], ignore_index=True)
    both = both.drop_duplicates(["sentence_id", "field"], keep="last").reset_index(drop=True)
    write_parquet(both.astype({"shown": bool, "model_probability": float}), path)


def previous_card(folder: Path) -> ModelCard | None:
    """The card of the model in ``folder``, or None when there is none or it cannot be read."""
    path = folder / CARD_FILE
    if not path.exists():
        return None
    try:
        return ModelCard.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError, ExportError):
        return None


def learn(
    config: ProjectConfig,
    out_dir: Path | str = DEFAULT_OUT,
    seed: int = 0,
    studio: Studio | None = None,
    config_path: Path | None = None,
    hold_out_audit: bool = False,
) -> LearnResult:
    """Train on the pull in ``<out_dir>/<config.name>/`` and write ``model/`` beside it; with a
    ``studio``, then give the project's unlabelled tasks the model's suggestions (with the cue
    rules' spans; ``config_path`` resolves the config's rules file).

    The classifier's features are the config's ``model``. Raises ExportError when there is no
    pull yet, InputError when no field has enough labels (the message gives each field's
    reason), ConfigError when ``model: tfidf+embedding`` lacks its extra. ``hold_out_audit``
    trains without the labels of the audit sample (the card says so), so that ``annotate
    estimate --corpus`` can correct the model's predictions with labels it never saw.
    """
    folder, annotations, sentences, adjudications = load_pulled(config, out_dir, SUMMARY_ANNOTATION_COLUMNS)
    counted = CountedAnswers.of(config, annotations, sentences)
    labels, _ = final_labels(counted, adjudications)
    fields = list(config.choice_fields())
    if hold_out_audit:  # a model that never saw the audit's labels, for annotate predict + estimate --corpus
        if (
            "audit_probability" not in counted.sentences
            or counted.sentences["audit_probability"].isna().all()
        ):
            raise InputError("--hold-out-audit: the pull has no audit sample (annotate push --audit)")
        audit = counted.sentences.loc[counted.sentences["audit_probability"].notna(), "sentence_id"]
        labels = labels[~labels["sentence_id"].isin(set(audit))]
    estimator = SentenceClassifier(features=config.model)
    models, card = train_fields(
        counted.sentences, labels, fields, seed, estimator=estimator, held_out_audit=hold_out_audit
    )
    if not models:
        reasons = "; ".join(f"{name}: {entry.reason}" for name, entry in card.fields.items())
        raise InputError(
            f"no field has enough labels to train a model ({reasons}); label more and pull again"
        )
    target = folder / MODEL_DIR
    previous = previous_card(target)
    card = save_model(target, models, card)
    suggested = None
    if studio is not None:
        rules = suggestion_rules(config, config_path) if "cues" in config.suggest else None
        shown = {name: model for name, model in models.items() if name in config.suggested_fields()}
        suggested = push_suggestions(
            config, studio, shown, card, labels, rules, control=config.suggest_control, seed=seed
        )
        _keep_records(target / SUGGESTIONS_FILE, suggested.records)
    return LearnResult(target, card, previous, compare(previous, card), suggested)
