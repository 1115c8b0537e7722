"""The command line: a thin Typer layer, one library call per command.

Library errors (``AnnotateError``) become ``error: <one line>`` on stderr and
the error's exit code; nothing else is caught, so real bugs still show.
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from annotate import __version__
from annotate.columns import PREDICTIONS_FILE, PUSH_BAD_ROWS_FILE
from annotate.config import ProjectConfig, load_config
from annotate.errors import AnnotateError
from annotate.files import DEFAULT_OUT, project_dir
from annotate.keys import export_keys, import_keys
from annotate.starter import CONFIG_ENV, DEFAULT_CONFIG, find_config, init_project
from annotate.studio import server
from annotate.studio.client import Connection, Studio, resolve_connection

if TYPE_CHECKING:
    from annotate.studio.push import PushResult

app = typer.Typer(
    name="annotate",
    help="Sentence-level media-bias annotation on Label Studio: split, push, pull, agreement, exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help=f"Project config (YAML) [default: ${CONFIG_ENV}, else {DEFAULT_CONFIG}]."
    ),
]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Folder for exports; files go to OUT/<name>/.")]
ShowNamesOpt = Annotated[
    bool,
    typer.Option(
        "--show-names", help="Name annotators by e-mail address instead of their pseudonyms (A01, A02, …)."
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Embedded server's data folder [default: user data dir, or $ANNOTATE_DATA_DIR].",
    ),
]


def _handled(func: Callable[..., None]) -> Callable[..., None]:
    """Turn AnnotateError into ``error: <one line>`` on stderr and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            func(*args, **kwargs)
        except AnnotateError as exc:
            err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted", markup=False)
            raise typer.Exit(130) from None

    return wrapper


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields a ``(done, total)`` callback."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _config(given: Path | None) -> tuple[ProjectConfig, Path]:
    """The config (``--config``, else ``$ANNOTATE_CONFIG``, else ./configs/stance.yaml) and its path."""
    path = find_config(given)
    return load_config(path), path


def _studio(data_dir: Path | None = None) -> Studio:
    """A session with the configured server; nothing is sent until the first call."""
    return Studio(resolve_connection(data_dir))


@app.command()
@_handled
def serve(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = server.DEFAULT_PORT,
    data_dir: DataDirOpt = None,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the embedded server instead.")] = False,
    database: Annotated[
        str | None,
        typer.Option(
            help="sqlite or postgresql (the POSTGRE_* server, else a private local cluster) "
            "[default: what the data folder used last, else sqlite, or $ANNOTATE_DATABASE]."
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Web worker processes: 1 (the default) is one Label Studio process; more serve it "
            "with uWSGI, on PostgreSQL only (the 'workers' extra: pyuwsgi). About one per core.",
        ),
    ] = None,
) -> None:
    """Start (or stop) the embedded Label Studio on 127.0.0.1."""
    if stop:
        stopped = server.stop_server(data_dir)
        out.print("Label Studio stopped." if stopped else "No embedded Label Studio was running.")
        return
    with err.status("Starting Label Studio (the first start takes about a minute)…"):
        info = server.start_server(data_dir, port=port, database=database, workers=workers)
    where = info.database if info.workers == 1 else f"{info.database}, {info.workers} web workers"
    out.print(f"Label Studio {'started' if info.started else 'is running'} at {info.url} ({where})")
    out.print(
        f"Admin login (e-mail, password, API key) is stored in {info.login_file} (readable by you only)."
    )
    out.print(f"Log: {info.log_file}. Stop it with: annotate serve --stop")


HERE = Path(".")


@app.command()
@_handled
def init(
    folder: Annotated[Path, typer.Argument(help="Project folder; files go to FOLDER/configs/.")] = HERE,
    force: Annotated[bool, typer.Option("--force", help="Overwrite starter files that exist.")] = False,
) -> None:
    """Write a starter config, annotation guidelines and cue rules into a project folder."""
    written = init_project(folder, force=force)
    for path in written:
        out.print(f"Wrote {path}")
    config = written[0]
    out.print(
        f"Edit {config} (name, targets, labels), then run: annotate serve, and "
        f"annotate push ARTICLE...{'' if folder == HERE else f' --config {config}'}"
    )


@app.command()
@_handled
def push(
    articles: Annotated[list[Path], typer.Argument(help="Article files: .txt .md .csv .tsv .jsonl .html")],
    config: ConfigOpt = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Codec of the files that are not UTF-8 (e.g. cp1252, gb18030); UTF-8 files stay UTF-8."
        ),
    ] = None,
    max_file_mb: Annotated[
        float | None,
        typer.Option(help="Largest article file accepted, in MB [default: 50, or $ANNOTATE_MAX_FILE_MB]."),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Compare every task in the project with the articles, instead of only the articles "
            "changed since the last push from this machine (after tasks were edited in Label Studio).",
        ),
    ] = False,
    audit: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of the sentences drawn at random into the audit sample that 'annotate estimate' "
            "needs; imported and served first [default: the config's audit, 0].",
        ),
    ] = None,
    skip_bad_rows: Annotated[
        bool,
        typer.Option(
            "--skip-bad-rows",
            help="Push the good rows and list the bad ones (undecodable bytes, control characters, no "
            "text, …), one line each, in exports/<name>/push.bad_rows.txt, instead of stopping at the first.",
        ),
    ] = False,
) -> None:
    """Split articles into sentences and import the new ones into the project."""
    from annotate.studio.push import prepare
    from annotate.studio.push import push as do_push

    cfg, config_path = _config(config)
    if audit is not None:
        cfg = cfg.model_copy(update={"audit": float(audit)})
    max_bytes = int(max_file_mb * 1024 * 1024) if max_file_mb is not None else None
    bad_rows = project_dir(DEFAULT_OUT, cfg.name) / PUSH_BAD_ROWS_FILE if skip_bad_rows else None
    # bad input fails here, before any request
    prepared = prepare(articles, cfg, config_path, encoding=encoding, max_bytes=max_bytes, bad_rows=bad_rows)
    if prepared.skipped:
        err.print(
            f"warning: skipped {prepared.skipped} bad row(s), listed in {prepared.bad_rows_file}",
            markup=False,
        )
    with _studio() as studio, _progress("Importing sentences") as progress:
        result = do_push(prepared, cfg, studio, progress=progress, full=full)
    verb = "Created" if result.created else "Updated" if result.updated else "Found"
    out.print(f"{verb} project '{cfg.name}' ({result.project_url})")
    if result.imported:
        out.print(
            f"Imported {result.imported} new sentences from {result.articles} article(s); "
            f"{result.already_present} were already there. ({result.seconds:.1f} s)"
        )
    else:
        out.print(f"Nothing new to import: all {result.sentences} sentences are already in the project.")
    _print_push_details(result)


def _print_push_details(result: PushResult) -> None:
    if result.guidelines is not None:
        out.print(f"Instructions: guidelines from {result.guidelines}")
    else:
        out.print("No guidelines shown to annotators (set 'guidelines:' in the config).")
    if result.suggestions_version:
        out.print(f"{result.predictions} cue suggestion(s) imported (rules {result.suggestions_version})")
    if result.audit_imported:
        out.print(f"{result.audit_imported} new sentence(s) in the audit sample (imported and served first)")
    if result.refreshed or result.superseded or result.revived:
        out.print(
            f"Refreshed {result.refreshed} · superseded {result.superseded} edited sentence(s) "
            f"(kept with their annotations, no longer served) · revived {result.revived}"
        )


@app.command()
@_handled
def pull(
    config: ConfigOpt = None,
    out_dir: OutOpt = DEFAULT_OUT,
    full: Annotated[bool, typer.Option("--full", help="Refetch everything instead of what changed.")] = False,
    snapshot: Annotated[
        bool, typer.Option("--snapshot", help="Also keep a dated copy in exports/<name>/snapshots/.")
    ] = False,
    show_names: ShowNamesOpt = False,
) -> None:
    """Fetch annotations (only what changed since the last pull) into exports/<name>/."""
    from annotate.workflows import pull as do_pull

    cfg, _ = _config(config)
    with _studio() as studio, _progress("Fetching tasks") as progress:
        result = do_pull(
            cfg, studio, out_dir, full=full, progress=progress, snapshot=snapshot, show_names=show_names
        )
    for warning in result.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False, soft_wrap=True)
    kind = "Full pull" if result.full else "Incremental pull"
    out.print(
        f"{kind}: fetched {result.tasks_fetched} task(s); {result.annotations} annotations on "
        f"{result.sentences} sentences in {result.out_dir}/ ({result.seconds:.1f} s)"
    )
    if result.snapshot is not None:
        out.print(f"Snapshot: {result.snapshot}")


@app.command()
@_handled
def summarize(
    config: ConfigOpt = None,
    out_dir: OutOpt = DEFAULT_OUT,
    exclude_flagged: Annotated[
        bool,
        typer.Option(
            "--exclude-flagged", help="Leave out annotators whose gold accuracy is under the threshold."
        ),
    ] = False,
    show_names: ShowNamesOpt = False,
) -> None:
    """Agreement, majority labels, per-document stance and the report, from the last pull."""
    from annotate.outputs.summarize import summarize as do_summarize

    cfg, config_path = _config(config)
    with _progress("Summarizing (steps)") as progress:
        result = do_summarize(
            cfg,
            out_dir,
            exclude_flagged=exclude_flagged,
            config_path=config_path,
            progress=progress,
            show_names=show_names,
        )
    if result.excluded:
        out.print(f"Left out flagged annotators: {', '.join(result.excluded)}")
    _print_agreement(result.tables["agreement"])
    out.print(f"Tables, summary.xlsx and report in {result.out_dir}/ (open {result.report})")


def _missing(value: Any) -> bool:
    """None, NaN, NA or NaT."""
    if isinstance(value, float):
        return math.isnan(value)
    return value is None or value is pd.NA or value is pd.NaT


def _print_agreement(agreement: pd.DataFrame) -> None:
    table = Table(title="Agreement")
    for col in ("field", "Krippendorff's α", "% agreement", "units", "annotators"):
        table.add_column(col, justify="left" if col == "field" else "right")
    for row in agreement.to_dict("records"):
        alpha, pct = float(row["krippendorff_alpha"]), float(row["percent_agreement"])
        alpha_text = "n/a" if math.isnan(alpha) else f"{alpha:.3f}"
        pct_text = "n/a" if math.isnan(pct) else f"{pct:.1%}"
        table.add_row(str(row["field"]), alpha_text, pct_text, str(row["units"]), str(row["annotators"]))
    out.print(table)


@app.command()
@_handled
def learn(
    config: ConfigOpt = None,
    out_dir: OutOpt = DEFAULT_OUT,
    seed: Annotated[int, typer.Option(help="Seed of the folds and the models (same seed, same model).")] = 0,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest/--no-suggest",
            help="Give the project's unlabelled tasks the model's suggestions (they pre-fill the form).",
        ),
    ] = True,
    hold_out_audit: Annotated[
        bool,
        typer.Option(
            "--hold-out-audit",
            help="Train without the audit sample's labels, so 'annotate predict' + 'annotate estimate "
            "--corpus' can correct the model with labels it never saw.",
        ),
    ] = False,
) -> None:
    """Train a classifier per field on the last pull's final labels; write exports/<name>/model/."""
    from annotate.model.learn import learn as do_learn

    cfg, config_path = _config(config)
    with contextlib.ExitStack() as stack:
        studio = stack.enter_context(_studio()) if suggest else None
        with err.status("Training (cross-validation by article, then the final models)…"):
            result = do_learn(
                cfg, out_dir, seed=seed, studio=studio, config_path=config_path, hold_out_audit=hold_out_audit
            )
    out.print(f"Model {result.card.model_version} in {result.folder}/ (card: model_card.json)")
    if result.previous is None:
        out.print("Cross-validated, folds grouped by article:")
    else:
        out.print(f"Cross-validated, folds grouped by article; previous run {result.previous.model_version}:")
    for line in result.lines:
        out.print(f"  {line}", markup=False)
    if result.suggestions is not None:
        s = result.suggestions
        out.print(
            f"Suggestions of {s.model_version} on {s.suggested} unlabelled task(s) "
            f"({s.labelled} labelled, gold or superseded left alone); they pre-fill the labeling form."
        )


@app.command()
@_handled
def estimate(
    config: ConfigOpt = None,
    out_dir: OutOpt = DEFAULT_OUT,
    by: Annotated[
        str | None, typer.Option(help="Estimate per group: outlet, country, document or month.")
    ] = None,
    level: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    seed: Annotated[int, typer.Option(help="Seed of the cross-fitted models.")] = 0,
    corpus: Annotated[
        Path | None,
        typer.Option(
            help="Estimate over this 'annotate predict' file instead of the pushed sentences (needs "
            "'annotate learn --hold-out-audit' before predicting)."
        ),
    ] = None,
) -> None:
    """Shares of every label in the corpus from the audit sample: human-only and model-assisted (PPI++)."""
    from annotate.workflows import estimate as do_estimate

    cfg, _ = _config(config)
    with err.status("Cross-fitting the models outside the audit, then estimating…"):
        result = do_estimate(cfg, out_dir, by=by, level=level, seed=seed, corpus=corpus)
    table = result.estimates
    assisted = table[table["method"] == "PPI++"]
    human = int(assisted["n_human"].max()) if len(assisted) else 0
    gain = float((assisted["effective_n"] / assisted["n_human"]).median()) if len(assisted) else 1.0
    out.print(
        f"{len(assisted)} shares ({table['field'].nunique()} field(s), {table['group'].nunique()} group(s)) "
        f"from {human} audit labels; the model's predictions count like {gain:.1f}× as many (median)"
    )
    if result.audit_not_in_corpus:
        out.print(f"{result.audit_not_in_corpus} audit sentence(s) are not in the corpus and were left out")
    out.print(f"Wrote {result.path}")
    if result.differences_path is not None and result.differences is not None:
        found = int(result.differences["significant"].sum())
        out.print(f"Wrote {result.differences_path} ({found} difference(s) significant after Holm)")


@app.command()
@_handled
def predict(
    corpus: Annotated[
        list[Path],
        typer.Argument(help="Article files to label, as for push: .txt .md .csv .tsv .jsonl .html"),
    ],
    config: ConfigOpt = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Parquet file to write [default: exports/<name>/predictions.parquet]."
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1, help="Sentences predicted and written at a time (a Parquet row group) [default: 10000]."
        ),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model folder [default: exports/<name>/model/].")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="Codec of the files that are not UTF-8 (e.g. cp1252, gb18030), as for push."),
    ] = None,
) -> None:
    """Label corpora that never go to Label Studio with the model of 'annotate learn' (Parquet out)."""
    from annotate.model.learn import MODEL_DIR
    from annotate.model.predict import DEFAULT_BATCH
    from annotate.model.predict import predict as do_predict

    cfg, _ = _config(config)
    folder = project_dir(DEFAULT_OUT, cfg.name)
    with _progress("Predicting sentences") as progress:
        result = do_predict(
            corpus,
            cfg,
            model_dir=model if model is not None else folder / MODEL_DIR,
            out=out_file if out_file is not None else folder / PREDICTIONS_FILE,
            batch_size=batch_size or DEFAULT_BATCH,
            encoding=encoding,
            progress=progress,
        )
    rate = result.sentences / result.seconds if result.seconds > 0 else 0.0
    out.print(
        f"Predicted {result.sentences:,} sentences of {result.articles:,} article(s) with "
        f"{result.model_version} ({', '.join(result.fields)}) in {result.seconds:.1f} s "
        f"({rate:,.0f} sentences/s)"
    )
    out.print(f"Wrote {result.out}")
    if result.skipped:
        err.print(f"warning: skipped {result.skipped} bad row(s), listed in {result.bad_rows}", markup=False)


@app.command()
@_handled
def adjudicate(
    config: ConfigOpt = None,
    out_dir: OutOpt = DEFAULT_OUT,
    by: Annotated[
        str, typer.Option(help="Which sentences need review: contested, margin, dawid-skene or alpha.")
    ] = "contested",
    threshold: Annotated[
        float | None,
        typer.Option(help="Cut-off for --by (defaults: margin 0, dawid-skene 0.8, alpha 0.01)."),
    ] = None,
    show_names: Annotated[
        bool,
        typer.Option("--show-names", help="Show annotators' e-mails to the adjudicator (default: A, B, C)."),
    ] = False,
) -> None:
    """Send contested sentences from the last pull to the review project for a final decision."""
    from annotate.workflows import adjudicate as do_adjudicate

    cfg, _ = _config(config)
    with _studio() as studio:
        result = do_adjudicate(cfg, studio, out_dir, by=by, threshold=threshold, show_names=show_names)
    out.print(
        f"{result.selected} sentence × field decision(s) on {result.sentences} sentence(s) need review; "
        f"{result.imported} new in the review project, {result.already_present} already there."
    )
    out.print(f"Adjudicate at {result.project_url}; the next 'annotate pull' brings the decisions back.")


@app.command()
@_handled
def status(
    config: ConfigOpt = None,
    local_time: Annotated[
        bool, typer.Option("--local-time", help="Count 'today' in this machine's time zone (default UTC).")
    ] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Re-read every task instead of what changed.")
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write the status cache.")
    ] = False,
    show_names: ShowNamesOpt = False,
) -> None:
    """Progress: sentences by number of annotations, per annotator today and in total, drafts."""
    from datetime import UTC, datetime

    from annotate.studio.status import status as do_status

    cfg, _ = _config(config)
    tz = (datetime.now().astimezone().tzinfo or UTC) if local_time else UTC
    with _studio() as studio:
        r = do_status(cfg, studio, tz=tz, use_cache=not no_cache, refresh=refresh, show_names=show_names)
    active = r.sentences - r.gold - r.superseded
    out.print(f"Project '{cfg.name}' ({r.project_url})")
    out.print(
        f"{r.sentences} sentences ({r.gold} gold, {r.superseded} superseded) · {r.annotations} annotations "
        f"({r.today} today) · {r.skipped} skipped · {r.drafts} drafts waiting · "
        f"{r.complete} of {active} have all {r.overlap}"
    )
    if r.audit:
        out.print(
            f"Audit sample: {r.audit} sentences · {r.audit_unlabelled} not yet labelled · "
            f"{r.audit_complete} with all {r.overlap}"
        )
    cov = Table(title="Sentences by number of annotators")
    for col in ("annotators", "sentences", "share", ""):
        cov.add_column(col, justify="right" if col != "" else "left")
    for k, n in r.coverage.items():
        share = n / active if active else 0.0
        cov.add_row(str(k), str(n), f"{share:.0%}", "█" * round(share * 30))
    out.print(cov)
    people = Table(title="Annotators")
    for col in ("annotator", "today", "total", "skipped", "drafts", "last submitted"):
        people.add_column(col, justify="left" if col in ("annotator", "last submitted") else "right")
    for row in r.annotators.to_dict("records"):
        last = row["last_submitted"]
        shown = "—" if _missing(last) else pd.Timestamp(last).strftime("%Y-%m-%d %H:%M")
        people.add_row(
            str(row["annotator"]), str(row["today"]), str(row["annotations"]), str(row["skipped"]),
            str(row["drafts"]), shown,
        )  # fmt: skip
    out.print(people)
    kind = "full read" if r.full else "incremental"
    out.print(
        f"[dim]today = {r.day} ({r.timezone}) · as of {r.as_of:%H:%M:%S} UTC · "
        f"{kind}: {r.fetched} task(s) read in {r.seconds:.1f} s[/dim]",
        highlight=False,
    )


@app.command()
@_handled
def diff(
    old: Annotated[
        Path, typer.Argument(help="A snapshot folder (exports/<name>/snapshots/...) or an export folder.")
    ],
    new: Annotated[Path, typer.Argument(help="A later snapshot or export folder.")],
    config: ConfigOpt = None,
    exclude_flagged: Annotated[
        bool, typer.Option("--exclude-flagged", help="Leave out annotators under the gold threshold.")
    ] = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Also write the changes to this CSV file.")
    ] = None,
) -> None:
    """Sentences whose final label changed between two snapshots (or export folders)."""
    from annotate.files import write_csv
    from annotate.outputs.snapshots import diff as do_diff

    changes = do_diff(old, new, _config(config)[0], exclude_flagged=exclude_flagged)
    if csv is not None:
        write_csv(changes, csv)
    if changes.empty:
        out.print("No final label changed.")
        return
    appeared = int(changes["old_label"].isna().sum())
    gone = int(changes["new_label"].isna().sum())
    out.print(
        f"{len(changes)} change(s): {len(changes) - appeared - gone} changed, {appeared} appeared, "
        f"{gone} disappeared"
    )
    table = Table()
    for col in ("doc_id", "sentence_id", "field", "old → new", "text"):
        table.add_column(col)
    for row in changes.to_dict("records"):

        def shown(label: object, source: object) -> str:
            return "—" if _missing(label) else f"{label} ({source})"

        text = str(row["text"] or "")
        table.add_row(
            str(row["doc_id"]), str(row["sentence_id"]), str(row["field"]),
            f"{shown(row['old_label'], row['old_source'])} → {shown(row['new_label'], row['new_source'])}",
            text if len(text) <= 60 else text[:59] + "…",
        )  # fmt: skip
    out.print(table)


@app.command()
@_handled
def demo(
    simulate: Annotated[
        int,
        typer.Option(help="Simulated demo annotators; 0 waits for real annotators until Ctrl-C."),
    ] = 0,
    config: ConfigOpt = None,
    out_dir: OutOpt = DEFAULT_OUT,
    port: Annotated[int, typer.Option(help="Port of the embedded server.")] = server.DEFAULT_PORT,
    data_dir: DataDirOpt = None,
) -> None:
    """The main job end to end on the embedded server, on the sample article."""
    from annotate import demo as demo_mod
    from annotate.outputs.summarize import summarize as do_summarize
    from annotate.studio.push import prepare
    from annotate.studio.push import push as do_push
    from annotate.workflows import pull as do_pull

    config = find_config(config, required=False)
    cfg = demo_mod.demo_config(config)
    with err.status("Starting Label Studio (the first start takes about a minute)…"):
        info = server.start_server(data_dir, port=port)
    out.print(f"Label Studio at {info.url} (login in {info.login_file})")
    sample = demo_mod.sample_article()
    login = server.read_login(info.data_dir)
    assert login is not None  # start_server wrote it
    # the demo always works on the embedded server, whatever LABEL_STUDIO_URL says
    with Studio(Connection(login.url, login.token, str(login.path))) as studio:
        with _progress("Importing sentences") as progress:
            pushed = do_push(
                prepare([sample], cfg, config if config.exists() else None), cfg, studio, progress=progress
            )
        out.print(
            f"Pushed {sample.name}: {pushed.sentences} sentences, {pushed.imported} new "
            f"({pushed.seconds:.1f} s) → {pushed.project_url}"
        )
        if simulate > 0:
            with _progress(f"{simulate} demo annotators labelling") as progress:
                emails = demo_mod.simulate_annotators(cfg, studio, simulate, progress=progress)
            out.print(f"Simulated annotators (demo only): {', '.join(emails)}")
        else:
            with contextlib.suppress(KeyboardInterrupt):
                out.print(
                    f"Waiting for annotators at {pushed.project_url} — press Ctrl-C to pull and summarize."
                )
                while True:
                    time.sleep(1)
        with _progress("Fetching tasks") as progress:
            pulled = do_pull(cfg, studio, out_dir, full=True, progress=progress)
    out.print(
        f"Pulled {pulled.annotations} annotations on {pulled.sentences} sentences ({pulled.seconds:.1f} s)"
    )
    with _progress("Summarizing (steps)") as progress:
        summary = do_summarize(
            cfg, out_dir, config_path=config if config.exists() else None, progress=progress
        )
    _print_agreement(summary.tables["agreement"])
    out.print(f"Exports: {summary.out_dir}/")
    out.print(f"Report:  {summary.report}")
    out.print(
        f"To label for real: open {info.url}/user/login/ with the admin e-mail and password in "
        f"{info.login_file}, invite annotators from Organization → Add people, then run "
        "'annotate pull' and 'annotate summarize'. Stop the server with 'annotate serve --stop'."
    )


def version_callback(value: bool) -> None:
    if value:
        out.print(f"annotate {__version__}")
        raise typer.Exit()


key_app = typer.Typer(
    name="key",
    help="Move a project's blinding key and annotator pseudonyms to another analyst machine.",
    no_args_is_help=True,
)
app.add_typer(key_app)


@key_app.command("export")
@_handled
def key_export(
    file: Annotated[
        Path, typer.Argument(help="Where to write the keys (0600); keep it as secret as a password.")
    ],
    config: ConfigOpt = None,
) -> None:
    """Write this machine's keys of the project (blinding key, pseudonyms) to FILE."""
    cfg, _ = _config(config)
    path = export_keys(cfg.name, file)
    out.print(f"Wrote the keys of '{cfg.name}' to {path} (readable by you only).")
    out.print("On the other machine: annotate key import FILE, then annotate pull --full.")


@key_app.command("import")
@_handled
def key_import(
    file: Annotated[Path, typer.Argument(help="A file written by 'annotate key export'.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace different keys this machine has for the project.")
    ] = False,
) -> None:
    """Install a project's keys from FILE on this machine."""
    keys = import_keys(file, force=force)
    out.print(f"Installed the keys of '{keys.project}' in {keys.path}.")


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Sentence-level media-bias annotation on Label Studio."""


def main() -> None:
    """Console-script entry point."""
    app()
