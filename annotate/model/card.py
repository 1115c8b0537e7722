"""Train a classifier per choice field from the final labels, and describe the result in a model card.

In: the sentences table (``sentence_id, doc_id, text``; ``sentences.parquet``) and the final
labels in the shape of ``sentence_labels.csv`` (``sentence_id, doc_id, field, label, source,
…``; see ``annotate.columns``). Every row with a label is a training example, whatever its
``source``: majority, Dawid–Skene, adjudicated and gold (a gold sentence's expected label is the
best label there is). A row's article is its ``doc_id`` (the sentences table's when the labels
table has none; the sentence itself when neither has one).
Out: ``train_fields`` returns the fitted ``SentenceClassifier`` of each trainable field and a
``ModelCard``: per field whether it was trained, why not, how many labels and articles, the
article-grouped cross-validation figures (``annotate.model.evaluate``) and the learning curve.
``compare`` puts a card's figures next to a previous card's, one line per field.

A field is trained only when ``check_trainable`` passes (at least ``min_labels`` labels, two
distinct labels, ``min_per_label`` examples of each, two articles); otherwise its entry says why
and the other fields are trained regardless. A rare label stops its field by default: a model
that cannot predict a label the annotators use would steer suggestions away from it without
saying so. With ``drop_rare=True`` the rare labels' sentences are left out instead, and the card
lists them under ``dropped_labels`` with a note that the model never predicts them.

Reproducibility: the rows of each field are sorted by ``sentence_id`` before anything is fitted,
so the input's row order does not matter; the model is a function of the labels, the parameters,
``seed`` and the scikit-learn version. ``model_version`` names exactly that:
``annotate-tfidf-lr-`` and the first 12 hex digits of the SHA-256 of the training data
(field, sentence id, article, label of every example; a sentence id hashes its text), the
parameters (with ``features="tfidf+embedding"``, the embedding's name and weights hash) and the
scikit-learn version. ``created`` is the only field that differs between
two identical runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sklearn
from sklearn.base import clone

from annotate.errors import ExportError, InputError
from annotate.model.classifier import CALIBRATION_FOLDS, SentenceClassifier
from annotate.model.embedding import load_embedding
from annotate.model.evaluate import (
    ECE_BINS,
    FRACTIONS,
    MIN_LABELS,
    MIN_PER_LABEL,
    FieldReport,
    check_seed,
    check_trainable,
    cross_validate_field,
)
from annotate.studio.client import LEARNED_MODEL_PREFIX

__all__ = [
    "MODEL_KIND",
    "FieldCard",
    "FieldFit",
    "ModelCard",
    "compare",
    "train_field",
    "train_fields",
    "training_table",
]

MODEL_KIND = LEARNED_MODEL_PREFIX.rstrip("-")
#: Bumped when the features, the classifier or the card's meaning change: part of model_version.
MODEL_FORMAT = 1

_TABLE_COLUMNS = ["field", "sentence_id", "doc_id", "label", "source", "text"]


@dataclass
class FieldCard:
    """One field's entry in the card. ``cv`` is ``FieldReport.summary()`` when trained, else None."""

    trained: bool
    reason: str | None
    n_labels: int  # labels the model learnt from (trained), or the labels there are (not trained)
    n_articles: int
    labels: dict[str, int]  # label -> examples, sorted by label
    dropped_labels: dict[str, int] = field(default_factory=dict)  # only with drop_rare
    note: str | None = None
    calibrated: bool | None = None  # the final model's probabilities (None when not trained)
    cv: dict[str, Any] | None = None


@dataclass
class ModelCard:
    """What was trained, on what, how well. ``model_sha256`` is set by ``annotate.model.store``."""

    model_version: str
    created: str  # UTC, ISO 8601
    seed: int
    sklearn_version: str
    parameters: dict[str, Any]
    data_sha256: str
    fields: dict[str, FieldCard]
    model_sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: object) -> ModelCard:
        """The card of ``to_dict``; ExportError naming the first thing that is wrong."""
        if not isinstance(data, dict):
            raise ExportError(f"not a model card: a JSON object was expected, got {type(data).__name__}")
        names = {f for f in cls.__dataclass_fields__ if f != "model_sha256"}
        missing = sorted(names - set(data))
        if missing:
            raise ExportError(f"not a model card: missing {', '.join(missing)}")
        fields = data["fields"]
        if not isinstance(fields, dict):
            raise ExportError("not a model card: 'fields' is not an object")
        entries = {}
        for name, entry in fields.items():
            try:
                entries[str(name)] = FieldCard(**entry)
            except TypeError as exc:
                raise ExportError(f"not a model card: field {name!r}: {exc}") from None
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "fields"}
        return cls(fields=entries, **known)

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ExportError(f"not a model card: invalid JSON ({exc})") from None
        return cls.from_dict(data)


@dataclass
class FieldFit:
    """One field's result: its card entry, and when trained the final model and the cross-validation.

    ``data`` holds the rows the model learnt from, in the order of ``report``'s arrays, so
    ``report.oof_frame(data["sentence_id"])`` gives every sentence's cross-fitted suggestion.
    """

    card: FieldCard
    model: SentenceClassifier | None = None
    report: FieldReport | None = None
    data: pd.DataFrame | None = None


def _require(table: object, name: str, columns: Sequence[str]) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise ExportError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ExportError(f"{name} is missing column(s) {', '.join(missing)}")
    return table


def training_table(sentences: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Every labelled (sentence, field) with its text: ``field, sentence_id, doc_id, label, source, text``.

    Rows of ``labels`` without a label (missing or empty) are left out; sorted by field, then
    sentence id. ExportError when a table lacks a column, a (sentence, field) has two labels, or
    a labelled sentence is not in ``sentences`` (the two tables are from different pulls).
    """
    _require(sentences, "the sentences table", ["sentence_id", "text"])
    _require(labels, "the labels table", ["sentence_id", "field", "label"])
    rows = labels[labels["label"].notna()].copy()
    rows["label"] = rows["label"].astype(str)
    rows = rows[rows["label"].str.len() > 0]
    rows["sentence_id"] = rows["sentence_id"].astype(str)
    rows["field"] = rows["field"].astype(str)
    doubled = rows.duplicated(["sentence_id", "field"], keep=False)
    if doubled.any():
        first = rows[doubled].iloc[0]
        raise ExportError(
            f"{int(doubled.sum())} labels rows repeat a sentence and field (e.g. {first['sentence_id']} "
            f"{first['field']}): pass sentence_labels, one row per sentence and field"
        )
    text = sentences.assign(sentence_id=sentences["sentence_id"].astype(str)).drop_duplicates("sentence_id")
    text = text.set_index("sentence_id")
    unknown = ~rows["sentence_id"].isin(text.index)
    if unknown.any():
        raise ExportError(
            f"{int(unknown.sum())} labelled sentence(s) are not in the sentences table (e.g. "
            f"{rows.loc[unknown, 'sentence_id'].iloc[0]}): pass the sentences of the same pull"
        )
    rows["text"] = rows["sentence_id"].map(text["text"]).fillna("").astype(str)
    doc = rows["doc_id"] if "doc_id" in rows.columns else pd.Series(pd.NA, index=rows.index, dtype=object)
    if "doc_id" in text.columns:
        doc = doc.fillna(rows["sentence_id"].map(text["doc_id"]))
    rows["doc_id"] = doc.fillna(rows["sentence_id"]).astype(str)
    if "source" not in rows.columns:
        rows["source"] = pd.NA
    rows = rows.sort_values(["field", "sentence_id"], kind="stable").reset_index(drop=True)
    return rows[_TABLE_COLUMNS]


def _counts(labels: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(labels.value_counts().items())}


def _template(estimator: SentenceClassifier | None, seed: int) -> SentenceClassifier:
    """A fresh estimator carrying the run's seed (a given estimator's other parameters kept)."""
    model = clone(estimator) if estimator is not None else SentenceClassifier()
    return model.set_params(seed=seed)


def train_field(
    data: pd.DataFrame,
    seed: int,
    *,
    estimator: SentenceClassifier | None = None,
    min_labels: int = MIN_LABELS,
    min_per_label: int = MIN_PER_LABEL,
    drop_rare: bool = False,
    n_splits: int = 5,
    fractions: Sequence[float] = FRACTIONS,
) -> FieldFit:
    """Check, cross-validate and fit one field; ``data`` is ``training_table``'s rows of that field.

    Untrainable (see the module docstring): a ``FieldFit`` with only the card entry, its reason
    set. Trainable: ``cross_validate_field`` on the rows grouped by ``doc_id``, then the final
    model fitted on all of them; ``estimator`` (default ``SentenceClassifier()``) is cloned and
    given ``seed``.
    """
    _require(data, "the field's rows", ["sentence_id", "doc_id", "label", "text"])
    seed = check_seed(seed)
    data = data.sort_values("sentence_id", kind="stable").reset_index(drop=True)
    available = _counts(data["label"])
    dropped: dict[str, int] = {}
    note = None
    if drop_rare:
        dropped = {label: n for label, n in available.items() if n < min_per_label}
        if dropped:
            data = data[~data["label"].isin(list(dropped))].reset_index(drop=True)
            listed = ", ".join(f"{label!r} ({n})" for label, n in dropped.items())
            note = f"left out rare label(s) {listed}: fewer than {min_per_label} examples; never predicted"
    reason = check_trainable(data["label"], min_labels, min_per_label, groups=data["doc_id"])
    if reason is not None:
        if dropped:
            reason = f"{reason}, after leaving out rare label(s) {', '.join(map(repr, dropped))}"
        card = FieldCard(
            trained=False,
            reason=reason,
            n_labels=sum(available.values()),
            n_articles=int(data["doc_id"].nunique()) if len(data) else 0,
            labels=available,
            dropped_labels=dropped,
            note=note,
        )
        return FieldFit(card)
    template = _template(estimator, seed)
    texts, labels = data["text"].tolist(), data["label"].tolist()
    report = cross_validate_field(
        texts, labels, data["doc_id"].tolist(), seed, n_splits, estimator=template, fractions=fractions
    )
    model = clone(template).fit(texts, labels)
    card = FieldCard(
        trained=True,
        reason=None,
        n_labels=len(data),
        n_articles=int(data["doc_id"].nunique()),
        labels=_counts(data["label"]),
        dropped_labels=dropped,
        note=note,
        calibrated=model.calibrated,
        cv=report.summary(),
    )
    return FieldFit(card, model, report, data)


def _sha256(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def train_fields(
    sentences: pd.DataFrame,
    labels: pd.DataFrame,
    fields: Sequence[str],
    seed: int,
    *,
    estimator: SentenceClassifier | None = None,
    min_labels: int = MIN_LABELS,
    min_per_label: int = MIN_PER_LABEL,
    drop_rare: bool = False,
    n_splits: int = 5,
    held_out_audit: bool = False,
) -> tuple[dict[str, SentenceClassifier], ModelCard]:
    """A model per trainable field of ``fields`` (in that order) and the card of the run.

    ``models`` holds only the trained fields; the card has an entry for every field of
    ``fields`` (a field without labels: "no labels"). Table problems are ExportErrors (see
    ``training_table``), a bad ``fields`` or ``seed`` an InputError; a field without enough
    labels is never an error.
    """
    if isinstance(fields, str) or not all(isinstance(f, str) and f for f in fields):
        raise InputError(f"fields must be a list of field names, got {fields!r}")
    seed = check_seed(seed)
    fields = list(dict.fromkeys(fields))
    table = training_table(sentences, labels)
    table = table[table["field"].isin(fields)]
    template = _template(estimator, seed)
    embedding = load_embedding() if template.features == "tfidf+embedding" else None  # ConfigError first
    parameters = {
        "format": MODEL_FORMAT,
        "fields": fields,
        "classifier": {"name": type(template).__name__, **template.get_params()},
        "min_labels": min_labels,
        "min_per_label": min_per_label,
        "drop_rare": drop_rare,
        "n_splits": n_splits,
        "learning_curve_fractions": list(FRACTIONS),
        "ece_bins": ECE_BINS,
        "calibration_folds": CALIBRATION_FOLDS,
    }
    if held_out_audit:  # the caller left the audit sample's labels out (annotate learn --hold-out-audit)
        parameters["held_out_audit"] = True
    if embedding is not None:
        parameters["embedding"] = {
            "name": embedding.name,
            "dim": embedding.dim,
            "sha256": embedding.sha256,
            "wordllama": embedding.version,
        }
    data_sha256 = _sha256(table[["field", "sentence_id", "doc_id", "label"]].values.tolist())
    version = _sha256({"data": data_sha256, "parameters": parameters, "sklearn": sklearn.__version__})

    models: dict[str, SentenceClassifier] = {}
    entries: dict[str, FieldCard] = {}
    for name in fields:
        rows = table[table["field"] == name]
        if rows.empty:
            entries[name] = FieldCard(False, "no labels", 0, 0, {})
            continue
        fit = train_field(
            rows,
            seed,
            estimator=template,
            min_labels=min_labels,
            min_per_label=min_per_label,
            drop_rare=drop_rare,
            n_splits=n_splits,
        )
        entries[name] = fit.card
        if fit.model is not None:
            models[name] = fit.model
    card = ModelCard(
        model_version=f"{MODEL_KIND}-{version[:12]}",
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=seed,
        sklearn_version=sklearn.__version__,
        parameters=parameters,
        data_sha256=data_sha256,
        fields=entries,
    )
    return models, card


def _figures(entry: FieldCard) -> tuple[float, float, float] | None:
    if not entry.trained or not entry.cv:
        return None
    cv = entry.cv
    return float(cv["accuracy"]), float(cv["macro_f1"]), float(cv["majority_baseline"])


def _line(name: str, now: FieldCard | None, was: FieldCard | None, had_previous: bool) -> str:
    if now is None:
        assert was is not None
        old = _figures(was)
        if old is None:
            return f"{name}: not in this model (was not trained either: {was.reason})"
        return (
            f"{name}: not in this model (was accuracy {old[0]:.2f}, macro-F1 {old[1]:.2f}, "
            f"{was.n_labels} labels)"
        )
    new, old = _figures(now), (_figures(was) if was is not None else None)
    if new is None:
        text = f"{name}: not trained: {now.reason}"
        if old is not None and was is not None:
            return f"{text} (was accuracy {old[0]:.2f}, macro-F1 {old[1]:.2f}, {was.n_labels} labels)"
        if was is not None:
            return f"{text} (was not trained either: {was.reason})"
        return text
    accuracy, macro, baseline = new
    tail = f"; majority baseline {baseline:.2f}"
    if old is not None and was is not None:
        return (
            f"{name}: accuracy {accuracy:.2f} (was {old[0]:.2f}), macro-F1 {macro:.2f} (was {old[1]:.2f}), "
            f"{now.n_labels} labels (was {was.n_labels}){tail}"
        )
    if was is not None:
        since = f"was not trained: {was.reason}"
    else:
        since = "not in the previous model" if had_previous else "no previous model"
    return f"{name}: accuracy {accuracy:.2f}, macro-F1 {macro:.2f}, {now.n_labels} labels{tail} ({since})"


def compare(previous: ModelCard | None, current: ModelCard) -> list[str]:
    """One line per field of ``current`` (then of ``previous`` only) with the figures and the previous ones.

    E.g. ``"stance_china: accuracy 0.71 (was 0.66), macro-F1 0.52 (was 0.48), 140 labels (was 90);
    majority baseline 0.55"``; figures are the cross-validated ones, to 2 decimals.
    """
    before = previous.fields if previous is not None else {}
    had = previous is not None
    lines = [_line(name, entry, before.get(name), had) for name, entry in current.fields.items()]
    lines += [_line(name, None, entry, True) for name, entry in before.items() if name not in current.fields]
    return lines
