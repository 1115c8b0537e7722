"""``annotate predict``: sentences per second per core and peak memory, at 100,000 and 1,000,000 sentences.

Run: ``python -m bench.predict [--sizes 100000 1000000] [--out BENCHMARKS.md|-]``
(``make bench-predict``; about 15 minutes on one busy core, most of it splitting sentences).

1. The default model (``SentenceClassifier()``: word 1–2-gram and ``char_wb`` 2–5-gram TF-IDF,
   calibrated logistic regression) is trained with ``annotate.model.card.train_fields`` on
   2,000 synthetic news sentences (``bench.textgen``, another seed than the corpus), one field
   per question of the starter config (three stance targets and the sentence type), labelled by
   keyword rules with 20 % seeded noise, and saved with ``save_model``, as ``annotate learn``
   would.
2. Corpora of exactly N sentences of the same generator are streamed to JSONL files, one
   article per line (15–45 sentences, with outlet, country, date, URL): nothing holds them.
3. Each corpus is predicted by ``annotate.model.predict.predict`` in a fresh process, which
   reports its wall time, its CPU time (user + system, so "per core" holds on a shared
   machine: sentences / CPU seconds), its peak RSS (``ru_maxrss``) and its RSS as it goes.
4. Where the time goes, on 20,000 sentences in this process: reading + splitting, the model
   (``BatchPredictor``) against each field's own ``predict_proba``, with the largest difference
   between the two; and the top of a cProfile of the whole ``predict``.
5. With the ``embed`` extra installed, the same for ``features="tfidf+embedding"`` (100,000).

The figures are printed and written into BENCHMARKS.md between the ``bench:predict`` markers.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
import yaml

from annotate.config import load_config
from annotate.ingest.articles import Article, iter_articles
from annotate.ingest.segment import split_article
from annotate.model.batch import BatchPredictor
from annotate.model.card import train_fields
from annotate.model.classifier import SentenceClassifier
from annotate.model.embedding import embedding_available
from annotate.model.predict import _full_regex_cache, load_fields, predict
from annotate.model.store import save_model
from bench.run import write_benchmarks
from bench.textgen import generate_articles

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
TRAIN_SENTENCES = 2_000
STAGE_SENTENCES = 20_000
PLAIN_SENTENCES = 5_000  # each field's own predict_proba is slow: timed on fewer
KEYWORDS = {
    "china": ("china", "beijing", "xinhua", "state council"),
    "us": ("united states", "washington", "white house", "commerce department", "congress"),
    "cooperation": ("cooperat", "talks", "agree", "dialogue", "partnership"),
}


def _config(folder: Path) -> Path:
    base = load_config(ROOT / "configs" / "stance.yaml").model_dump()
    base.update(name="bench-predict", guidelines=False, suggestions=False, blind=[])
    path = folder / "stance.yaml"
    path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    return path


def _label(text: str, rng: random.Random) -> dict[str, str]:
    low = text.lower()
    labels = {}
    for target, words in KEYWORDS.items():
        if not any(w in low for w in words):
            stance = "Not addressed"
        elif any(w in low for w in ("praise", "welcome", "success", "support", "boost")):
            stance = "Favor"
        elif any(w in low for w in ("threat", "accuse", "ban", "curb", "criticis", "risk")):
            stance = "Against"
        else:
            stance = "Neutral"
        if rng.random() < 0.2:
            stance = rng.choice(["Favor", "Against", "Neutral", "Not addressed"])
        labels[f"stance_{target}"] = stance
    factual = any(c.isdigit() for c in low) or " said" in low
    labels["sentence_type"] = "Fact" if factual != (rng.random() < 0.2) else "Opinion"
    return labels


def train(folder: Path, features: str) -> Path:
    """Train and save the model of ``features`` on the synthetic labelled sentences; its folder."""
    rng = random.Random(1)
    rows, labels = [], []
    for generated in generate_articles(seed=99):
        article = Article(doc_id=generated.doc_id, text=generated.text, language="en")
        for sentence in split_article(article):
            rows.append(
                {"sentence_id": sentence.sentence_id, "doc_id": article.doc_id, "text": sentence.text}
            )
            for field, label in _label(sentence.text, rng).items():
                labels.append({"sentence_id": sentence.sentence_id, "doc_id": article.doc_id, "field": field,
                               "label": label})  # fmt: skip
        if len(rows) >= TRAIN_SENTENCES:
            break
    kept = {r["sentence_id"] for r in rows[:TRAIN_SENTENCES]}
    sentences = pd.DataFrame(rows[:TRAIN_SENTENCES])
    table = pd.DataFrame([row for row in labels if row["sentence_id"] in kept])
    fields = ["stance_china", "stance_us", "stance_cooperation", "sentence_type"]
    estimator = SentenceClassifier(features=features)
    models, card = train_fields(sentences, table, fields, 0, estimator=estimator, n_splits=2)
    target = folder / f"model-{features.replace('+', '-')}"
    save_model(target, models, card)
    return target


def write_corpus(path: Path, sentences: int, seed: int = 7) -> tuple[int, int]:
    """A JSONL corpus of exactly ``sentences`` sentences, streamed; ``(articles, bytes)``."""
    total = articles = 0
    with path.open("w", encoding="utf-8") as file:
        for generated in generate_articles(seed):
            if total >= sentences:
                break
            if total + generated.sentences > sentences:
                generated = generated.truncated(sentences - total)
            row = {"id": generated.doc_id, "title": generated.title, "text": generated.text,
                   "outlet": generated.outlet, "country": generated.country,
                   "published": generated.published, "url": generated.url}  # fmt: skip
            file.write(json.dumps(row, ensure_ascii=False) + "\n")
            total += generated.sentences
            articles += 1
    return articles, path.stat().st_size


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(corpus: Path, config: Path, model: Path, out: Path) -> dict[str, Any]:
    """Predict ``corpus`` in this (fresh) process; what it cost."""
    cfg = load_config(config)
    samples: list[tuple[int, float]] = []
    began = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if not samples or done - samples[-1][0] >= 100_000 or done == total:
            samples.append((done, _rss_mib()))

    result = predict([corpus], cfg, model_dir=model, out=out, progress=progress)
    wall = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "sentences": result.sentences,
        "articles": result.articles,
        "row_groups": result.row_groups,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        "rss": samples,
        "out_mb": out.stat().st_size / 1e6,
    }


def run_child(corpus: Path, config: Path, model: Path, out: Path) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.predict",
        "--child",
        str(corpus),
        str(config),
        str(model),
        str(out),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def stages(corpus: Path, model: Path, config: Path) -> dict[str, Any]:
    """Reading + splitting, the model both ways, on the first STAGE_SENTENCES sentences."""
    cfg = load_config(config)
    models, _ = load_fields(model, cfg)
    _full_regex_cache()
    texts: list[str] = []
    began = time.process_time()
    for article in iter_articles([corpus], max_bytes=1 << 40, on_bad_row=print):
        texts += [s.text for s in split_article(article)]
        if len(texts) >= STAGE_SENTENCES:
            break
    split = time.process_time() - began
    texts = texts[:STAGE_SENTENCES]
    predictor = BatchPredictor(models)
    predictor.predict_proba(texts[:1000])  # the first batch's check, out of the timing
    began = time.process_time()
    for start in range(0, len(texts), 10_000):
        fast = predictor.predict_proba(texts[start : start + 10_000])
    model_seconds = time.process_time() - began
    sample = texts[:PLAIN_SENTENCES]
    began = time.process_time()
    plain = predictor.plain(sample)
    plain_seconds = time.process_time() - began
    fast = predictor.predict_proba(sample)
    worst = max(float(np.max(np.abs(fast[f] - plain[f]))) for f in plain)
    return {
        "split_per_s": len(texts) / split,
        "model_per_s": len(texts) / model_seconds,
        "plain_per_s": len(sample) / plain_seconds,
        "max_difference": worst,
        "fast": predictor.fast,
        "fields": len(models),
        "features": {name: int(m.n_features_) for name, m in models.items()},
    }


def profile(corpus: Path, model: Path, config: Path, folder: Path) -> str:
    cfg = load_config(config)
    profiler = cProfile.Profile()
    profiler.enable()
    predict([corpus], cfg, model_dir=model, out=folder / "profiled.parquet")
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(14)
    lines = text.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ncalls"))
    keep = [line.replace(str(ROOT) + "/", "").replace(sys.prefix + "/lib/", "") for line in lines[start:]]
    total = next(line for line in lines if "function calls" in line).strip()
    return total + "\n\n" + "\n".join(line.rstrip() for line in keep if line.strip())


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}; load average {os.getloadavg()[0]:.2f}"


def report(runs: dict[str, dict[str, Any]], parts: dict[str, Any], prof: str, extra: dict[str, Any]) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"### Run — {when}",
        "",
        f"Machine: {_machine()} (other work shares the cores: per-core figures are sentences per CPU "
        f"second of the predicting process). scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
        f"Python {platform.python_version()}.",
        "",
        f'Model: the default (`features="tfidf"`), {parts["fields"]} fields (3 stance targets, sentence '
        f"type), calibrated, trained on {TRAIN_SENTENCES:,} synthetic sentences "
        f"({min(parts['features'].values()):,} features per field).",
        "",
        "| corpus | articles | wall | CPU | sentences/s per core | peak RSS | RSS along the run "
        "(sentences: MiB) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, run in runs.items():
        along = ", ".join(f"{done:,}: {mib:.0f}" for done, mib in run["rss"][1:])
        lines.append(
            f"| {label} | {run['articles']:,} | {run['wall']:.0f} s | {run['cpu']:.0f} s | "
            f"**{run['sentences'] / run['cpu']:,.0f}** | {run['peak_mib']:.0f} MiB | {along} |"
        )
    lines += [
        "",
        f"Stages, one core, first {STAGE_SENTENCES:,} sentences (CPU time):",
        "",
        "| stage | sentences/s |",
        "| --- | --- |",
        f"| read JSONL + split into sentences (pysbd) | {parts['split_per_s']:,.0f} |",
        f"| model, all {parts['fields']} fields: `BatchPredictor` | **{parts['model_per_s']:,.0f}** |",
        f"| model, all {parts['fields']} fields: each field's own `predict_proba` (before) | "
        f"{parts['plain_per_s']:,.0f} |",
        "",
        f"Largest difference between the two model paths over {PLAIN_SENTENCES:,} sentences × "
        f"{parts['fields']} fields: {parts['max_difference']:.1e}.",
    ]
    if extra:
        run, part = extra["run"], extra["stages"]
        lines += [
            "",
            f'`features="tfidf+embedding"` (wordllama), {run["sentences"]:,} sentences: '
            f"**{run['sentences'] / run['cpu']:,.0f}** sentences/s per core end to end, peak RSS "
            f"{run['peak_mib']:.0f} MiB; model stage {part['model_per_s']:,.0f} sentences/s "
            f"(each field's own `predict_proba`: {part['plain_per_s']:,.0f}); largest difference "
            f"{part['max_difference']:.1e}.",
        ]
    lines += [
        "",
        "cProfile of `predict` on 20,000 sentences (top entries by own time):",
        "",
        "```",
        prof,
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.predict", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--out", default=str(BENCHMARKS), help="Markdown file to update ('-': none)")
    parser.add_argument("--no-embedding", action="store_true", help="skip the tfidf+embedding run")
    parser.add_argument(
        "--child", nargs=4, metavar=("CORPUS", "CONFIG", "MODEL", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        figures = child(*(Path(p) for p in args.child))
        print(json.dumps(figures))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        folder = Path(tmp)
        config = _config(folder)
        began = time.perf_counter()
        model = train(folder, "tfidf")
        print(f"trained the default model in {time.perf_counter() - began:.0f} s", flush=True)
        runs = {}
        for size in args.sizes:
            corpus = folder / f"corpus-{size}.jsonl"
            articles, size_bytes = write_corpus(corpus, size)
            print(
                f"corpus of {size:,} sentences: {articles:,} articles, {size_bytes / 1e6:.0f} MB", flush=True
            )
            runs[f"{size:,} sentences ({size_bytes / 1e6:.0f} MB JSONL)"] = run = run_child(
                corpus, config, model, folder / f"predictions-{size}.parquet"
            )
            rate = run["sentences"] / run["cpu"]
            peak = run["peak_mib"]
            print(f"  {rate:,.0f} sentences/s per core, peak {peak:.0f} MiB, {run['rss']}", flush=True)
            if size != max(args.sizes):
                corpus.unlink()
        sample = folder / "sample.jsonl"
        write_corpus(sample, STAGE_SENTENCES)
        parts = stages(sample, model, config)
        print(f"stages: {parts}", flush=True)
        prof = profile(sample, model, config, folder)
        print(prof, flush=True)
        extra: dict[str, Any] = {}
        if embedding_available() and not args.no_embedding:
            embedded = train(folder, "tfidf+embedding")
            corpus = folder / "corpus-embedding.jsonl"
            write_corpus(corpus, min(args.sizes))
            extra = {
                "run": run_child(corpus, config, embedded, folder / "predictions-embedding.parquet"),
                "stages": stages(sample, embedded, config),
            }
            print(f"tfidf+embedding: {extra}", flush=True)
    section = report(runs, parts, prof, extra)
    print(section)
    if args.out != "-":
        write_benchmarks(section, "predict", Path(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
