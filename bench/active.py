"""Replay labelling on BABE SG1: uncertainty order against random order (annotate learn's model).

Run: ``python -m bench.active [--data DIR] [--step 50] [--seed 0]`` (``make bench-active``).
Needs ``../shared/data/babe_sg1/`` (Spinde et al., Findings of EMNLP 2021; AGPL-3.0): 1,700 news
sentences with expert bias labels; the 1,546 with a majority label (Biased / Non-biased) are used.

The articles (``news_link``) are split once, seeded: a fifth of them are the test set, never
labelled; the rest is the pool. Both orders start from the same random ``step`` sentences and
add ``step`` labels a round: *random* takes them at random, *uncertainty* takes the pool
sentences whose top-class probability under the current model is lowest (what Label Studio's
"Uncertainty sampling" serves after ``annotate learn``). After each round a
``SentenceClassifier`` is trained on the labels so far and scored on the test set. The figure
reported: how many labels each order needs to reach the accuracy random order reaches with the
whole pool. Also measured: training and prediction throughput, and peak memory (RSS).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from annotate.model.classifier import SentenceClassifier, one_blas_thread

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "babe_sg1"


def load(folder: Path) -> pd.DataFrame:
    table = pd.read_csv(folder / "final_labels_SG1.csv")
    table = table[table["label_bias"].isin(["Biased", "Non-biased"])].reset_index(drop=True)
    return table[["text", "news_link", "outlet", "label_bias"]]


def _score(model: SentenceClassifier, texts: list[str], labels: np.ndarray) -> float:
    return float((model.predict(texts) == labels).mean())


def replay(table: pd.DataFrame, step: int, seed: int) -> dict[str, list[tuple[int, float]]]:
    rng = np.random.default_rng(seed)
    articles = table["news_link"].unique()
    test_articles = set(rng.choice(articles, size=len(articles) // 5, replace=False))
    test = table[table["news_link"].isin(test_articles)]
    pool = table[~table["news_link"].isin(test_articles)].reset_index(drop=True)
    test_texts, test_labels = test["text"].tolist(), test["label_bias"].to_numpy()
    texts, labels = pool["text"].tolist(), pool["label_bias"].to_numpy()
    start = list(rng.choice(len(pool), size=step, replace=False))
    curves: dict[str, list[tuple[int, float]]] = {}
    for order in ("random", "uncertainty"):
        chosen = list(start)
        order_rng = np.random.default_rng(seed + 1)
        curve = []
        while True:
            model = SentenceClassifier(seed=seed).fit([texts[i] for i in chosen], labels[chosen])
            curve.append((len(chosen), _score(model, test_texts, test_labels)))
            left = np.setdiff1d(np.arange(len(pool)), chosen)
            if len(left) == 0:
                break
            if order == "random":
                new = order_rng.choice(left, size=min(step, len(left)), replace=False)
            else:
                top = model.predict_proba([texts[i] for i in left]).max(axis=1)
                new = left[np.argsort(top, kind="stable")[:step]]
            chosen.extend(int(i) for i in new)
        curves[order] = curve
    return curves


def labels_to_reach(curve: list[tuple[int, float]], target: float) -> int | None:
    return next((n for n, acc in curve if acc >= target), None)


def throughput(table: pd.DataFrame, seed: int) -> tuple[float, float]:
    texts, labels = table["text"].tolist(), table["label_bias"].to_numpy()
    began = time.perf_counter()
    model = SentenceClassifier(seed=seed).fit(texts, labels)
    fit_s = time.perf_counter() - began
    many = texts * 20
    began = time.perf_counter()
    model.predict_proba(many)
    predict_rate = len(many) / (time.perf_counter() - began)
    return len(texts) / fit_s, predict_rate


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (args.data / "final_labels_SG1.csv").exists():
        print(f"error: {args.data} has no final_labels_SG1.csv (BABE SG1 is not on this machine)")
        return 2
    table = load(args.data)
    with one_blas_thread():
        curves = replay(table, args.step, args.seed)
        fit_rate, predict_rate = throughput(table, args.seed)
    target = curves["random"][-1][1]
    pool = curves["random"][-1][0]
    print(f"BABE SG1, {len(table):,} sentences with a majority bias label; pool {pool:,}, step {args.step}")
    print("| labels | random accuracy | uncertainty accuracy |")
    print("| --- | --- | --- |")
    for (n, r), (_, u) in zip(curves["random"], curves["uncertainty"], strict=True):
        print(f"| {n:,} | {r:.3f} | {u:.3f} |")
    for order in ("random", "uncertainty"):
        need = labels_to_reach(curves[order], target)
        print(f"{order}: {need:,} labels to reach {target:.3f} (random order's accuracy with all {pool:,})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"training {fit_rate:,.0f} sentences/s (with calibration), "
        f"prediction {predict_rate:,.0f} sentences/s, peak RSS {peak:,.0f} MiB, one core"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
