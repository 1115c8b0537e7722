"""Static word embeddings as sentence features: the optional extra ``annotate[embed]``.

The embedding is WordLlama's ``l2_supercat`` table at 256 dimensions (D. Miller, WordLlama,
MIT licence, https://github.com/dleemiller/WordLlama): one vector per token of the Llama 2
tokenizer (32,000 tokens), distilled from the token embeddings of large language models and
trained for sentence similarity. A sentence's vector is the average of its tokens' vectors,
L2-normalised (``WordLlamaInference.embed(norm=True)``). The table (16 MB) and the tokenizer
ship inside the ``wordllama`` wheel on PyPI: nothing is downloaded, ever. ``load_embedding``
opens the two files from the installed package with ``disable_download=True``, so a missing
file is an error, never a request to another host; the weights file's SHA-256 is recorded in
the model and checked when a saved model embeds again.

``EmbeddingFeatures`` is a stateless scikit-learn transformer from texts to that
``(n, 256)`` float64 array; ``SentenceClassifier(features="tfidf+embedding")`` puts it beside
the TF-IDF n-grams. The table itself is never pickled into a model (it lives once per process);
a saved model holds the weights' hash and finds the table in the installed package.

Why this one: on BABE (1,546 and 1,092 expert-labelled news sentences, article-grouped 5-fold
CV, 3 seeds; ``make bench-embed``, figures in BENCHMARKS.md) TF-IDF + this embedding beat
TF-IDF alone by about 3 points of accuracy on both fields, while torch-free sentence
encoders need a model download at run time (model2vec, fastembed) or torch
(sentence-transformers). Text is NFKC-normalised but not lower-cased (the tokenizer is
case-sensitive). Chinese text falls mostly to byte tokens, whose vectors carry little; there
the TF-IDF character n-grams still carry the signal.

Reference: D. Miller (2024), WordLlama: recycled token embeddings from large language models,
https://github.com/dleemiller/WordLlama.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Self

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from annotate.errors import ConfigError

__all__ = ["EMBEDDING_NAME", "Embedding", "EmbeddingFeatures", "embedding_available", "load_embedding"]

#: The embedding's name as the model card records it.
EMBEDDING_NAME = "wordllama-l2_supercat-256"
_CONFIG, _DIM = "l2_supercat", 256
_WEIGHTS = Path("weights") / f"{_CONFIG}_{_DIM}.safetensors"
_INSTALL = "pip install 'annotate[embed]'"


@dataclass(frozen=True)
class Embedding:
    """The loaded table: ``embed(texts)`` gives L2-normalised float64 vectors, shape ``(n, dim)``."""

    name: str
    dim: int
    sha256: str
    version: str
    model: Any  # wordllama.inference.WordLlamaInference

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim))
        clean = [unicodedata.normalize("NFKC", t) for t in texts]
        with np.errstate(invalid="ignore", divide="ignore"):  # a text without tokens: 0/0, set to 0 below
            vectors = self.model.embed(clean, norm=True, return_np=True, batch_size=256)
        return np.nan_to_num(np.asarray(vectors, dtype=np.float64).reshape(len(clean), self.dim))


def embedding_available() -> bool:
    """True when the ``embed`` extra (wordllama) is installed."""
    return importlib.util.find_spec("wordllama") is not None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def load_embedding() -> Embedding:
    """The packaged table, loaded once per process; ConfigError when the extra is missing."""
    try:
        wordllama = importlib.import_module("wordllama")
    except ImportError:
        raise ConfigError(f"model: tfidf+embedding needs the optional embedding model: {_INSTALL}") from None
    root = Path(str(wordllama.__file__)).parent
    weights = root / _WEIGHTS
    if not weights.is_file():
        raise ConfigError(f"the installed wordllama has no {_WEIGHTS} (reinstall it: {_INSTALL})")
    # The package keeps its files under weights/ and tokenizers/, the layout of its cache folder:
    # pointing cache_dir at the package finds both, and disable_download forbids any request.
    try:
        model = wordllama.WordLlama.load(config=_CONFIG, dim=_DIM, cache_dir=root, disable_download=True)
    except FileNotFoundError as exc:
        raise ConfigError(
            f"the installed wordllama is incomplete ({exc}); reinstall it: {_INSTALL}"
        ) from None
    return Embedding(EMBEDDING_NAME, _DIM, _sha256(weights), metadata.version("wordllama"), model)


class EmbeddingFeatures(TransformerMixin, BaseEstimator):
    """Texts → their ``load_embedding()`` vectors. ``fit`` records the table's hash
    (``sha256_``); ``transform`` refuses a different table (a model saved with other weights)."""

    def fit(self, texts: Sequence[str], labels: Any = None) -> Self:
        embedding = load_embedding()
        self.sha256_ = embedding.sha256
        self.n_features_out_ = embedding.dim
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        check_is_fitted(self, "sha256_")
        embedding = load_embedding()
        if embedding.sha256 != self.sha256_:
            raise ConfigError(
                f"this model was trained with other embedding weights (sha256 {self.sha256_[:12]}…,"
                f" installed {embedding.sha256[:12]}…, wordllama {embedding.version});"
                " run annotate learn again"
            )
        return embedding.embed(list(texts))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "sha256_")
        return np.asarray([f"embedding{i}" for i in range(self.n_features_out_)], dtype=object)
