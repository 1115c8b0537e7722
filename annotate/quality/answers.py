"""Which annotations and answers count: decided once per summary, then handed to every figure.

The rules (the README's "For analysts" section states them for readers):

- ground-truth annotations (of gold sentences) are reference answers, never votes;
- superseded sentences (edited in their article since they were labelled) count only in the
  annotators' own figures (annotations, skips, lead times);
- a skipped (cancelled) annotation counts in ``annotators.skipped`` and nowhere else, and of
  several annotations one annotator made of one sentence, the most recently updated counts
  (``annotate.quality.agreement.counted_annotations``);
- gold sentences give each annotator a gold accuracy; annotators under the config's
  ``gold_threshold`` on at least ``gold_min_items`` gold answers are *flagged*, and with
  ``exclude_flagged`` they are left out of everything but their own row of ``annotators``;
- gold sentences are kept out of agreement, aggregation, document stance and the report's
  figures (the *analysis* set).

``CountedAnswers.of`` applies them once; ``annotate.quality.tables.summary_tables`` and
``annotate.outputs.report.render_report`` read the result, so the choice answers are derived
from the annotations table a single time per ``annotate summarize``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from annotate.config import ProjectConfig
from annotate.quality.agreement import ANSWER_COLUMNS, choice_answers, counted_annotations
from annotate.quality.gold import expected_labels, gold_accuracy

__all__ = ["CountedAnswers"]


def _flag(table: pd.DataFrame, column: str) -> pd.Series:
    """A boolean column, False where missing (and everywhere when the column is absent)."""
    if column not in table:
        return pd.Series(False, index=table.index)
    return table[column].astype("boolean").fillna(False).astype(bool)


@dataclass(frozen=True)
class CountedAnswers:
    """The pulled annotations, split once into what counts where.

    Tables (row subsets of the pulled ``annotations`` and ``sentences``):
    ``human_all`` every human (not ground-truth) annotation row, superseded sentences
    included — the annotators' own counts and lead times; ``sentences`` the live sentences (not
    superseded; gold included); ``counted`` human rows on live sentences, less the excluded
    annotators; ``analysis`` ``counted`` less the gold sentences; ``analysis_sentences`` the
    live sentences less the gold ones.
    Answers (``ANSWER_COLUMNS``, one per sentence × choice field × annotator): ``human_answers``
    on live sentences (gold accuracy, adjudication), ``counted_answers`` (majority labels and
    margins), ``analysis_answers`` (Dawid–Skene, agreement, Cohen's κ, leave-one-out agreement,
    the report). ``latest``: each annotator's counted annotation of each analysis sentence
    (``counted_annotations``), labelled or not.
    Gold: ``gold`` the expected labels (``sentence_id, field, label``), ``gold_ids`` their
    sentences, ``accuracy`` each annotator's gold accuracy with ``flagged``; ``flagged`` and
    ``excluded`` (flagged annotators left out, when asked) are sorted annotator names.
    """

    choice_fields: dict[str, list[str]]
    human_all: pd.DataFrame
    sentences: pd.DataFrame
    counted: pd.DataFrame
    analysis: pd.DataFrame
    analysis_sentences: pd.DataFrame
    human_answers: pd.DataFrame
    counted_answers: pd.DataFrame
    analysis_answers: pd.DataFrame
    latest: pd.DataFrame
    gold: pd.DataFrame
    gold_ids: frozenset[str]
    accuracy: pd.DataFrame
    flagged: list[str]
    excluded: list[str]

    @classmethod
    def of(
        cls,
        config: ProjectConfig,
        annotations: pd.DataFrame,
        sentences: pd.DataFrame,
        exclude_flagged: bool = False,
    ) -> CountedAnswers:
        """Apply the rules of the module docstring to the pulled ``annotations`` and ``sentences``."""
        choice_fields = config.choice_fields()
        ground_truth = _flag(annotations, "ground_truth")
        human_all = annotations[~ground_truth]
        superseded = _flag(sentences, "superseded")
        old_ids = set(sentences.loc[superseded, "sentence_id"])
        live = sentences[~superseded]
        human = human_all[human_all["sentence_id"].isin(set(live["sentence_id"]))]
        if "ground_truth" in annotations:
            gold = expected_labels(annotations[~annotations["sentence_id"].isin(old_ids)])
        else:
            gold = pd.DataFrame(columns=["sentence_id", "field", "label"])
        gold_ids = frozenset(gold["sentence_id"])

        human_answers = choice_answers(human, choice_fields)
        accuracy = gold_accuracy(human_answers, gold)
        accuracy["flagged"] = (accuracy["gold_items"] >= config.gold_min_items) & (
            accuracy["gold_accuracy"] < config.gold_threshold
        )
        flagged = sorted(accuracy.loc[accuracy["flagged"], "annotator"].astype(str))
        excluded = flagged if exclude_flagged else []

        counted = human[~human["annotator"].isin(excluded)]
        analysis = counted[~counted["sentence_id"].isin(gold_ids)]
        # of one annotator's annotations of one sentence the latest counts, so the answers of a
        # subset of rows (fewer annotators, fewer sentences) are the same subset of the answers
        counted_answers = human_answers[~human_answers["annotator"].isin(excluded)]
        analysis_answers = counted_answers[~counted_answers["sentence_id"].isin(gold_ids)]
        return cls(
            choice_fields=choice_fields,
            human_all=human_all,
            sentences=live,
            counted=counted,
            analysis=analysis,
            analysis_sentences=live[~live["sentence_id"].isin(gold_ids)],
            human_answers=human_answers,
            counted_answers=counted_answers.reset_index(drop=True)[ANSWER_COLUMNS],
            analysis_answers=analysis_answers.reset_index(drop=True)[ANSWER_COLUMNS],
            latest=counted_annotations(analysis),
            gold=gold,
            gold_ids=gold_ids,
            accuracy=accuracy,
            flagged=flagged,
            excluded=excluded,
        )
