"""A trained model's folder: ``model.joblib`` (the fitted classifiers) and ``model_card.json``.

``save_model`` writes the classifiers with joblib, then the card with the SHA-256 of the file
just written (``model_sha256``); each file is written atomically (a temporary file renamed into
place, ``annotate.files``), the model first. A crash between the two leaves the new model beside
the old card, whose hash no longer matches: ``load_model`` refuses it rather than load a model
under another model's card.

``load_model`` reads the card, hashes ``model.joblib`` and compares before unpickling a byte of
it, and refuses a model saved by another scikit-learn version (unpickling across versions is not
supported by scikit-learn). Every refusal is one ``ExportError`` line saying what to do. The
hash detects a damaged, truncated or swapped file; it is no defence against someone who can
rewrite both files — unpickling runs code, so load only folders you or your project wrote.

References: joblib persistence (https://joblib.readthedocs.io/en/stable/persistence.html);
scikit-learn user guide, "Model persistence" (security and version compatibility).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import joblib
import sklearn

from annotate.errors import ExportError
from annotate.files import atomic_path, write_text
from annotate.model.card import ModelCard
from annotate.model.classifier import SentenceClassifier

__all__ = ["CARD_FILE", "MODEL_FILE", "file_sha256", "load_model", "save_model"]

MODEL_FILE = "model.joblib"
CARD_FILE = "model_card.json"
_PAYLOAD_FORMAT = 1
_RETRAIN = "run 'annotate learn'"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(folder: Path | str, models: Mapping[str, SentenceClassifier], card: ModelCard) -> ModelCard:
    """Write ``models`` (field -> fitted classifier) and ``card`` to ``folder``; return the card as saved.

    The returned card is ``card`` with ``model_sha256`` set (``card`` itself is not changed).
    ExportError when a model is not a fitted ``SentenceClassifier`` or its field is not a
    trained field of the card.
    """
    folder = Path(folder)
    trained = {name for name, entry in card.fields.items() if entry.trained}
    for name, model in models.items():
        if not isinstance(model, SentenceClassifier) or not hasattr(model, "model_"):
            raise ExportError(f"model of {name!r} is not a fitted SentenceClassifier")
    if set(models) != trained:
        raise ExportError(
            f"the models ({', '.join(sorted(models)) or 'none'}) are not the card's trained fields "
            f"({', '.join(sorted(trained)) or 'none'})"
        )
    payload = {"format": _PAYLOAD_FORMAT, "model_version": card.model_version, "models": dict(models)}
    with atomic_path(folder / MODEL_FILE) as tmp:
        joblib.dump(payload, tmp)
        digest = file_sha256(tmp)
    saved = dataclasses.replace(card, model_sha256=digest)
    write_text(saved.to_json(), folder / CARD_FILE)
    return saved


def load_model(folder: Path | str) -> tuple[dict[str, SentenceClassifier], ModelCard]:
    """The models and card that ``save_model`` wrote to ``folder``, after checking the hash.

    ExportError (one line) when the folder has no card or model, the card is unreadable, the
    model file's SHA-256 differs from the card's ``model_sha256``, the model was saved by another
    scikit-learn version, or the file does not hold the card's models.
    """
    folder = Path(folder)
    card_path, model_path = folder / CARD_FILE, folder / MODEL_FILE
    if not card_path.is_file() or not model_path.is_file():
        missing = CARD_FILE if not card_path.is_file() else MODEL_FILE
        raise ExportError(f"no trained model in {folder} ({missing} is missing): run 'annotate learn' first")
    try:
        card = ModelCard.from_json(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{card_path} cannot be read ({type(exc).__name__}): {_RETRAIN}") from None
    except ExportError as exc:
        raise ExportError(f"{card_path}: {exc}; {_RETRAIN}") from None
    if not card.model_sha256:
        raise ExportError(f"{card_path} records no model_sha256: {_RETRAIN}")
    actual = file_sha256(model_path)
    if actual != card.model_sha256:
        raise ExportError(
            f"{model_path} does not match {CARD_FILE} (SHA-256 {actual[:12]}…, card says "
            f"{card.model_sha256[:12]}…): the file was changed or damaged; not loaded, {_RETRAIN}"
        )
    if card.sklearn_version != sklearn.__version__:
        raise ExportError(
            f"{model_path} was saved with scikit-learn {card.sklearn_version}, this is "
            f"{sklearn.__version__}: {_RETRAIN} to retrain"
        )
    try:
        payload: Any = joblib.load(model_path)
    except Exception as exc:  # a hash-verified file should load; anything else is a broken save
        raise ExportError(f"{model_path} cannot be loaded ({type(exc).__name__}): {_RETRAIN}") from None
    models = payload.get("models") if isinstance(payload, dict) else None
    if (
        not isinstance(models, dict)
        or payload.get("format") != _PAYLOAD_FORMAT
        or payload.get("model_version") != card.model_version
        or not all(isinstance(m, SentenceClassifier) for m in models.values())
    ):
        raise ExportError(f"{model_path} does not hold the models of {CARD_FILE}: {_RETRAIN}")
    return dict(models), card
