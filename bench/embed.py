"""Does ``model: tfidf+embedding`` beat the default ``tfidf`` in the same cross-validation? (BABE SG1)

Run: ``python -m bench.embed [--data DIR] [--seeds 0 1 2]`` (``make bench-embed``). Needs the
``embed`` extra and ``../shared/data/babe_sg1/`` (Spinde et al., Findings of EMNLP 2021;
AGPL-3.0): two fields, ``label_bias`` (Biased / Non-biased; 1,546 sentences with a majority
label) and ``label_opinion`` (three labels; 1,092). A sentence's article is its ``news_link``
(the 28 sentences without one are each their own article).

For every field and seed, ``annotate.model.evaluate.cross_validate_field`` (5 folds grouped by
article, the folds a function of the seed alone, so both feature sets see the same folds)
gives out-of-fold accuracy, macro-F1 and ECE. The paired difference in accuracy (embedding
minus default) has a 95% percentile interval from 2,000 bootstrap resamples of articles (the
sentences of an article are not independent). Also measured: training and prediction
throughput on all sentences of a field and the process's peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from annotate.model.classifier import FEATURES, SentenceClassifier
from annotate.model.embedding import load_embedding
from annotate.model.evaluate import FieldReport, cross_validate_field

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "babe_sg1"
FIELDS = {
    "label_bias": ["Biased", "Non-biased"],
    "label_opinion": [
        "Entirely factual",
        "Somewhat factual but also opinionated",
        "Expresses writer's opinion",
    ],
}
BOOTSTRAP = 2000


def load(folder: Path, field: str) -> pd.DataFrame:
    table = pd.read_csv(folder / "final_labels_SG1.csv")
    table = table[table[field].isin(FIELDS[field])].reset_index(drop=True)
    own = pd.Series("row-" + table.index.astype(str), index=table.index)
    return table.assign(article=table["news_link"].fillna(own))[["text", "article", field]]


def correct(report: FieldReport, labels: np.ndarray) -> np.ndarray:
    predicted = np.asarray(report.classes, dtype=object)[report.oof_proba.argmax(axis=1)]
    return (predicted == labels).astype(float)


def paired_interval(diff: np.ndarray, articles: np.ndarray, seed: int) -> tuple[float, float]:
    """95% percentile interval of the mean of ``diff``, resampling articles with replacement."""
    codes, index = np.unique(articles, return_inverse=True)
    sums = np.bincount(index, weights=diff, minlength=len(codes))
    sizes = np.bincount(index, minlength=len(codes))
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(codes), np.full(len(codes), 1 / len(codes)), size=BOOTSTRAP)
    means = (draws @ sums) / (draws @ sizes)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def throughput(table: pd.DataFrame, field: str, features: str) -> tuple[float, float]:
    texts, labels = table["text"].tolist(), table[field].tolist()
    began = time.perf_counter()
    model = SentenceClassifier(features=features).fit(texts, labels)
    fit = len(texts) / (time.perf_counter() - began)
    many = texts * 10
    began = time.perf_counter()
    model.predict_proba(many)
    return fit, len(many) / (time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    if not (args.data / "final_labels_SG1.csv").exists():
        print(f"no BABE data in {args.data} (see ../shared/data/babe_sg1/README.md)", file=sys.stderr)
        return 2
    table = load_embedding()
    print(f"embedding: {table.name}, wordllama {table.version}, weights sha256 {table.sha256[:12]}")
    rows, diffs = [], []
    for field in FIELDS:
        data = load(args.data, field)
        labels = data[field].to_numpy(dtype=object)
        for seed in args.seeds:
            hits = {}
            for features in FEATURES:
                report = cross_validate_field(
                    data["text"].tolist(),
                    data[field].tolist(),
                    data["article"].tolist(),
                    seed,
                    estimator=SentenceClassifier(seed=seed, features=features),
                    fractions=[1.0],
                )
                hits[features] = correct(report, labels)
                rows.append((field, features, seed, report.accuracy, report.macro_f1, report.ece))
            diff = hits["tfidf+embedding"] - hits["tfidf"]
            low, high = paired_interval(diff, data["article"].to_numpy(dtype=object), seed)
            diffs.append((field, seed, len(data), float(diff.mean()), low, high))
    figures = pd.DataFrame(rows, columns=["field", "model", "seed", "accuracy", "macro_f1", "ece"])
    print("\nMean over seeds (5-fold CV grouped by article):")
    print(figures.groupby(["field", "model"])[["accuracy", "macro_f1", "ece"]].mean().round(3).to_string())
    print("\nAccuracy, tfidf+embedding minus tfidf (95% article-bootstrap interval):")
    for field, seed, n, mean, low, high in diffs:
        print(f"  {field:14} seed {seed}  n={n:5d}  {mean:+.3f}  [{low:+.3f}, {high:+.3f}]")
    print("\nThroughput on all sentences of label_bias (one process, one BLAS thread):")
    data = load(args.data, "label_bias")
    for features in FEATURES:
        fit, predict = throughput(data, "label_bias", features)
        print(f"  {features:16} train {fit:7.0f} sentences/s   predict {predict:7.0f} sentences/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
