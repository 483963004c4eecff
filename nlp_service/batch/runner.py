"""Batch inference: analyse the rows of an input (``readers``) in length-sorted batches, append one JSON record
per article to a JSONL file (``outputs.RecordWriter``), and resume after a crash without duplicating or losing a
record.

Output order is input order. Inside a window of ``window_factor × batch_size`` rows the texts are sorted by
length before they are batched (similar lengths pad less), and the records are written back in input order.
``WindowRunner`` is the one place that forms batches: the Ray engine runs it too, so a record depends only on
its window, never on the engine.
"""

from __future__ import annotations

import gzip
import logging
import os
import sys
import time
from dataclasses import dataclass, replace
from typing import Any

from tqdm import tqdm

from nlp_service.analyzer import AnalyzeOptions, Analyzer
from nlp_service.batch.errors import BatchError, InputFault, Terminated
from nlp_service.batch.files import STDIO, check_encoding, is_gzip
from nlp_service.batch.outputs import RecordWriter
from nlp_service.batch.readers import check_input, detect_format, parquet_rows, read_rows
from nlp_service.batch.rows import RowItem, RowRules
from nlp_service.records import Analysis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchConfig:
    fmt: str | None = None  # None = by extension
    encoding: str | None = None  # None = detected (files.sniff_encoding)
    options: AnalyzeOptions = AnalyzeOptions()
    batch_size: int = 16
    window_factor: int = 8  # rows sorted by length together = window_factor × batch_size
    progress: bool = True
    rename: dict[str, str] | None = None  # input column → id / text / title / body (--text-field …)

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise BatchError("batch size must be at least 1")
        if self.window_factor < 1:
            raise BatchError("window factor must be at least 1")
        check_encoding(self.encoding)


@dataclass
class BatchStats:
    rows_in: int = 0
    ok: int = 0
    failed: int = 0  # error records written by this run
    skipped: int = 0
    failed_before: int = 0  # error records earlier runs left in the output
    seconds: float = 0.0

    def line(self) -> str:
        failed = f"{self.failed_total}"
        if self.failed_before:
            failed += f" ({self.failed_before} from an earlier run)"
        return (
            f"rows in: {self.rows_in}, ok: {self.ok}, failed: {failed}, "
            f"skipped (already done): {self.skipped}, seconds: {self.seconds:.1f}"
        )

    @property
    def failed_total(self) -> int:
        """Error records in the output file after this run, whichever run wrote them."""
        return self.failed + self.failed_before

    @property
    def exit_code(self) -> int:
        return 1 if self.failed_total else 0


def analyze_resilient(
    analyzer: Analyzer, texts: list[str], ids: list[str], options: AnalyzeOptions
) -> list[Analysis]:
    """``analyze_prepared`` for a batch; if a component raises, retry row by row: a bad row fails alone."""
    try:
        return analyzer.analyze_prepared(texts, list(ids), options)
    except Exception as exc:
        log.warning("a batch of %d failed (%s: %s); retrying row by row", len(texts), type(exc).__name__, exc)
    out = []
    for text, id_ in zip(texts, ids, strict=True):
        try:
            out.extend(analyzer.analyze_prepared([text], [id_], options))
        except Exception as exc:
            # The traceback only with -v: a systematic failure would otherwise print one per row.
            verbose = log.isEnabledFor(logging.DEBUG)
            log.error("article %s failed: %s: %s", id_, type(exc).__name__, exc, exc_info=verbose)
            out.append(Analysis(id=id_, error=f"analysis failed: {type(exc).__name__}: {exc}"))
    return out


def run_batch(
    analyzer: Analyzer, input_path: str, output_path: str, config: BatchConfig = BatchConfig()
) -> BatchStats:
    """Analyse every row of ``input_path`` not yet in ``output_path`` and append the records there.

    Raises BatchError (exit 2) for usage problems (a threshold name the checkpoint does not know among them) and
    models that cannot load, FileFault (3) for a file that cannot be read or written, OutputLocked (4) when
    another run writes to the output; per-row problems become error records. On KeyboardInterrupt / Terminated
    the records written so far are whole lines.
    """
    if input_path != STDIO and output_path != STDIO and same_file(input_path, output_path):
        raise BatchError("--input and --output are the same file")
    check_options(analyzer, config.options)
    check_input(input_path)
    fmt = detect_format(input_path, config.fmt)

    started = time.perf_counter()
    stats = BatchStats()
    with RecordWriter(output_path) as writer:  # locks the output before reading what earlier runs wrote
        previous = writer.previous()
        check_resume_tasks(output_path, previous.tasks, config.options.tasks)
        stats.failed_before = previous.failed
        rules = RowRules(previous.counts)
        window_rows = config.batch_size * config.window_factor
        bar = _progress(config, input_path, fmt)
        window: list[RowItem] = []
        runner = WindowRunner(analyzer, config, writer, stats, bar)
        try:
            try:
                for row_no, row in read_rows(input_path, fmt, config.encoding, config.rename):
                    stats.rows_in += 1
                    item = rules.checked_item(row, row_no, fmt)
                    if item is None:
                        stats.skipped += 1
                        bar.update(1)
                        continue
                    window.append(item)
                    if len(window) >= window_rows:
                        runner.run(window)
                        window = []
            except InputFault:
                runner.run(window)  # the rows read before the input failed are done: a resume starts after them
                raise
            runner.run(window)
        except (KeyboardInterrupt, Terminated) as exc:
            exc.written = writer.written  # type: ignore[attr-defined]  # for the resume hint
            raise
        finally:
            bar.close()
            stats.seconds = time.perf_counter() - started
    return stats


def check_options(analyzer: Analyzer, options: AnalyzeOptions) -> None:
    """Options the checkpoint cannot serve (a threshold name it does not know) stop the run before its first
    row: afterwards they would fail every row alike, as an error record each."""
    try:
        analyzer.check_thresholds(options.thresholds)
    except ValueError as exc:
        raise BatchError(str(exc)) from None


def check_resume_tasks(output_path: str, found: set[frozenset[str]], tasks: tuple[str, ...]) -> None:
    """Records are never rewritten in place, so a resume must make the same fields as the run it continues."""
    other = {t for t in found if t != frozenset(tasks)}
    if other:
        made = " and ".join(sorted(",".join(sorted(t)) for t in other))
        raise BatchError(
            f"{output_path} holds records made with --tasks {made}, and this run asks for "
            f"--tasks {','.join(tasks)}; rerun with the same --tasks to finish that run, or pass a new --output"
        )


class WindowRunner:
    """Analyses one window at a time in length-sorted batches and writes finished rows in input order (the
    Ray engine's actors run it too, with a list for ``writer``: both engines make the same batches)."""

    def __init__(
        self, analyzer: Analyzer, config: BatchConfig, writer: RecordWriter, stats: BatchStats, bar: Any
    ):
        self.analyzer, self.config, self.writer, self.stats, self.bar = analyzer, config, writer, stats, bar
        self._warm = False

    def run(self, window: list[RowItem]) -> None:
        todo = sorted(
            (i for i, item in enumerate(window) if item.record is None),
            key=lambda i: len(window[i].text or ""),
        )
        written = self._write_ready(window, 0)  # leading error rows need no model
        if todo:
            self._warm_up()
        size = self.config.batch_size
        for start in range(0, len(todo), size):
            chunk = todo[start : start + size]
            texts, ids = [window[i].text or "" for i in chunk], [window[i].id for i in chunk]
            for i, record in zip(
                chunk, analyze_resilient(self.analyzer, texts, ids, self.config.options), strict=True
            ):
                if record.error:
                    record = replace(record, error=f"{window[i].where}: {record.error}")
                window[i].record = record
            written = self._write_ready(window, written)
            self.writer.sync()
        if written != len(window):  # pragma: no cover - a bug guard: every row of a window gets a record
            raise RuntimeError(f"{len(window) - written} rows of a window were not written")

    def _warm_up(self) -> None:
        # Load the models before the first batch: a checkpoint that cannot load is one clear error, not an
        # error record for every row (and a load attempt per row).
        if self._warm:
            return
        try:
            self.analyzer.warm_up(self.config.options.tasks)
        except Exception as exc:
            raise BatchError(f"cannot load the models: {type(exc).__name__}: {exc}") from exc
        self._warm = True
        _restart_clock(self.bar)

    def _write_ready(self, window: list[RowItem], start: int) -> int:
        pos = start
        while pos < len(window) and (record := window[pos].record) is not None:
            self.writer.write(record.to_dict())
            if record.error:
                self.stats.failed += 1
            else:
                self.stats.ok += 1
            self.bar.update(1)
            pos += 1
        return pos


def _restart_clock(bar: Any) -> None:
    """Start the progress bar's rate and ETA after the models loaded: loading is not analysis speed."""
    if getattr(bar, "disable", True):
        return
    done = bar.n
    bar.reset(total=bar.total)  # n = 0 and the clock restarts now
    bar.initial = done  # rows counted before (skipped, early errors) do not count towards the rate
    bar.n = done
    bar.refresh()


def same_file(a: str, b: str) -> bool:
    """``b`` exists and is the file ``a`` names (the input given as the output would be overwritten)."""
    try:
        return os.path.exists(b) and os.path.samefile(a, b)
    except OSError:
        return False


def _progress(config: BatchConfig, input_path: str, fmt: str) -> Any:
    total = None
    if config.progress and input_path != STDIO:
        total = (
            parquet_rows(input_path)
            if fmt == "parquet"
            else (_count_lines(input_path) if fmt == "jsonl" else None)
        )
    interactive = sys.stderr.isatty()
    return tqdm(
        total=total,
        unit=" articles",
        file=sys.stderr,
        disable=not config.progress,
        mininterval=0.1 if interactive else 5.0,  # a log file gets a line every few seconds, not a flood
        dynamic_ncols=interactive,
    )


def _count_lines(path: str) -> int | None:
    """Non-blank lines of a JSONL file, for the progress bar's total (cheap next to the models)."""
    try:
        with gzip.open(path, "rb") if is_gzip(path) else open(path, "rb") as fh:
            return sum(1 for line in fh if line.strip())
    except (OSError, EOFError):  # a damaged .gz: the reader says so
        return None

