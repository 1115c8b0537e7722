"""The commands that span stages, as library functions (the CLI calls one function per command).

``pull`` fetches the project (``annotate.studio.pull``), then writes the data dictionary and,
if asked, a dated snapshot (``annotate.outputs``); ``adjudicate`` computes the final labels
(``annotate.quality``) and sends the contested sentences to the review project
(``annotate.studio.review``). The single-stage commands are called where they live:
``annotate.studio.push.push``, ``annotate.studio.status.status``,
``annotate.outputs.summarize.summarize`` and ``annotate.outputs.snapshots.diff``.
``estimate`` reads the pull, computes the final labels (``annotate.quality``) and the shares
(``annotate.inference.estimates``) and writes ``estimates.csv`` and, with groups,
``estimate_differences.csv``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from annotate.columns import ESTIMATE_DIFFERENCES_FILE, ESTIMATES_FILE
from annotate.config import ProjectConfig
from annotate.files import DEFAULT_OUT, write_csv
from annotate.inference.estimates import (
    check_audit,
    check_grouping,
    corpus_population,
    cross_predictions,
    differences,
    estimate_table,
)
from annotate.inference.ppi import check_level
from annotate.keys import name_annotators
from annotate.model.learn import MODEL_DIR
from annotate.model.store import load_model
from annotate.outputs.dictionary import write_dictionary
from annotate.outputs.snapshots import snapshot as take_snapshot
from annotate.quality.adjudication import select_for_review
from annotate.quality.answers import CountedAnswers
from annotate.quality.tables import SUMMARY_ANNOTATION_COLUMNS, final_labels
from annotate.studio.client import Studio
from annotate.studio.pull import PullResult, load_pulled, pull_tables
from annotate.studio.review import AdjudicateResult, check_main_project, send_for_review

__all__ = ["EstimateResult", "adjudicate", "estimate", "pull"]


@dataclasses.dataclass(frozen=True)
class EstimateResult:
    """The two tables ``annotate estimate`` wrote, and where (``differences`` None without groups)."""

    estimates: pd.DataFrame
    differences: pd.DataFrame | None
    path: Path
    differences_path: Path | None
    audit_not_in_corpus: int = 0  # with a corpus: audit sentences it does not hold


def estimate(
    config: ProjectConfig,
    out_dir: Path | str = DEFAULT_OUT,
    by: str | None = None,
    level: float = 0.95,
    seed: int = 0,
    corpus: Path | None = None,
) -> EstimateResult:
    """Shares of every label in the pushed corpus (or, with ``corpus``, in the sentences of that
    ``annotate predict`` file) from the last pull's audit sample (see
    ``annotate.inference.estimates``); InputError when there is no audit or too few labels."""
    check_level(level)
    check_grouping(by)  # bad options fail before the pull is read and the models are fitted
    folder, annotations, sentences, adjudications = load_pulled(config, out_dir, SUMMARY_ANNOTATION_COLUMNS)
    counted = CountedAnswers.of(config, annotations, sentences)
    labels, _ = final_labels(counted, adjudications)
    population = counted.sentences
    population = population[~population["sentence_id"].isin(counted.gold_ids)]
    if "superseded" in population:
        population = population[~population["superseded"].astype(bool)]
    population = population.reset_index(drop=True)
    check_audit(population)
    fields = list(config.choice_fields())
    missing = 0
    if corpus is None:
        predictions = cross_predictions(population, labels, fields, seed, config.model)
    else:
        _, card = load_model(folder / MODEL_DIR)
        population, predictions, missing = corpus_population(Path(corpus), population, card, fields)
    table = estimate_table(population, labels, predictions, by=by, level=level)
    path = write_csv(table, folder / ESTIMATES_FILE)
    diffs = differences_path = None
    if by is not None:
        diffs = differences(table, level)
        differences_path = write_csv(diffs, folder / ESTIMATE_DIFFERENCES_FILE)
    return EstimateResult(table, diffs, path, differences_path, missing)


def pull(
    config: ProjectConfig,
    studio: Studio,
    out_dir: Path | str = DEFAULT_OUT,
    full: bool = False,
    snapshot: bool = False,
    progress: Callable[[int, int], None] | None = None,
    show_names: bool = False,
) -> PullResult:
    """``annotate pull``: the pulled tables (``annotate.studio.pull.pull_tables``), the data
    dictionary ``README.md`` beside them and, with ``snapshot``, a dated copy in
    ``snapshots/<UTC time>/`` with the summary CSVs computed from this pull."""
    result = pull_tables(config, studio, out_dir, full=full, progress=progress, show_names=show_names)
    write_dictionary(result.out_dir, result.manifest, config)
    if not snapshot:
        return result
    return dataclasses.replace(result, snapshot=take_snapshot(result.out_dir, config))


def adjudicate(
    config: ProjectConfig,
    studio: Studio,
    out_dir: Path | str = DEFAULT_OUT,
    by: str = "contested",
    threshold: float | None = None,
    show_names: bool = False,
) -> AdjudicateResult:
    """``annotate adjudicate``: select sentences from the last pull (``by`` a criterion of
    ``annotate.quality.adjudication``) and send them to the review project."""
    _, annotations, sentences, adjudications = load_pulled(config, out_dir, SUMMARY_ANNOTATION_COLUMNS)
    name_annotators(config.name, [(annotations, "annotator")], show_names)
    check_main_project(config, studio)
    counted = CountedAnswers.of(config, annotations, sentences)
    labels, _ = final_labels(counted, adjudications)
    labels = labels[labels["source"].isin(["majority", "dawid_skene"])]  # not gold, not decided
    answers = counted.human_answers[counted.human_answers["sentence_id"].isin(labels["sentence_id"])]
    selected = select_for_review(labels, answers, config, by, threshold)
    return send_for_review(config, studio, selected, answers, sentences, show_names)
