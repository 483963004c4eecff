"""The Ray engine: the batch job on Ray Data, with the same records as the local engine.

Pipeline (one Ray Data dataset, streamed):

1. one row per input file → ``flat_map``: the file read with the batch readers, cut into windows exactly as
   the local runner cuts it (``inputs.read_windows``); one dataset row per window;
2. ``map_batches`` over a fixed pool of actors (``WindowActor``): each loads the models once, then analyses
   one window at a time with the local ``runner.WindowRunner`` (length-sorted batches of ``batch_size``);
3. the records go to one JSONL file, written by the driver in input order with the batch ``RecordWriter``
   (which locks the file, as the local engine does), or each actor writes its window as a shard of an output
   folder.

Resume follows the local engine's rules: ids already written are skipped, a resume with other --tasks than
the records it continues is refused, and error records of earlier runs count in the exit code.

``WindowRunner`` is reused on purpose, not copied: both engines must make the same batches.
A window is one dataset row, never split or merged by Ray, so each article is analysed in the same batch as
locally and gets the same scores. An actor that dies is restarted and its window retried by Ray
(Ray Data's actor defaults); records are written only after a window is complete.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import pickle
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nlp_service.analyzer import DEFAULT_CHECKPOINTS, Analyzer
from nlp_service.batch.engines.inputs import InputFile, expand_input, read_windows
from nlp_service.batch.engines.outputs import OutputTarget, already_written, claim_folder, output_target, write_shard
from nlp_service.batch.errors import BatchError, Terminated
from nlp_service.batch.outputs import RecordWriter
from nlp_service.batch.runner import (
    BatchConfig,
    BatchStats,
    WindowRunner,
    check_options,
    check_resume_tasks,
    same_file,
)

log = logging.getLogger(__name__)

AnalyzerFactory = Callable[[], Analyzer]


@dataclass(frozen=True)
class RayConfig:
    address: str | None = None  # None: start a local Ray; "auto" or "ray://host:port": join a cluster
    num_actors: int = 2  # model replicas; each holds the models once (~0.5 GB)
    cpus_per_actor: float = 1.0  # also the actor's torch threads
    num_cpus: int | None = None  # a local Ray's CPUs (None: all of this machine's)
    shard_format: str = "jsonl"  # for a folder --output: jsonl or parquet

    def __post_init__(self) -> None:
        if self.num_actors < 1:
            raise BatchError("--num-actors must be at least 1")
        if self.cpus_per_actor <= 0:
            raise BatchError("cpus per actor must be positive")


def run_ray(
    input_spec: str,
    output_path: str,
    config: BatchConfig | None = None,
    ray_config: RayConfig | None = None,
    checkpoint: Path | None = None,
    analyzer_factory: AnalyzerFactory | None = None,
) -> BatchStats:
    """Analyse every row of ``input_spec`` (file, folder or glob) not yet in ``output_path`` on Ray.

    ``stats.seconds`` is the job's time after Ray is up (actor start and model loading included).
    ``analyzer_factory`` (picklable, called once in each actor) replaces ``Analyzer.load(checkpoint)``.
    """
    if importlib.util.find_spec("ray") is None:  # an optional extra: say how to get it
        raise BatchError("--engine ray needs Ray: pip install -e '.[ray]' (or make setup-ray)")
    config, ray_config = config or BatchConfig(), ray_config or RayConfig()
    files = expand_input(input_spec, config.fmt)
    target = output_target(output_path, ray_config.shard_format)
    if not target.is_folder and any(same_file(f.path, target.path) for f in files):
        raise BatchError("--input and --output are the same file")
    if analyzer_factory is None:
        root = (checkpoint or DEFAULT_CHECKPOINTS).resolve()
        # checks the folder here (lazy: loads no model), not once in every actor
        check_options(Analyzer.load(root), config.options)
        analyzer_factory = functools.partial(Analyzer.load, root)
    elif config.options.thresholds:
        check_options(analyzer_factory(), config.options)  # an Analyzer loads its models on first use only

    # A file output is locked before anything reads what earlier runs wrote, as the local engine does.
    writer = None if target.is_folder else RecordWriter(target.path)
    try:
        if writer is not None:
            previous = writer.previous()
            check_resume_tasks(target.path, previous.tasks, config.options.tasks)  # before Ray starts
        import ray  # lazy: Ray is an optional extra (.[ray], ~250 MB)

        started_ray = _connect(ray_config)
        try:
            if target.is_folder:
                claim_folder(target.path, ray.get_runtime_context().get_job_id())
                previous = already_written(target)  # after the claim: a failed job's late shards are refused
                check_resume_tasks(target.path, previous.tasks, config.options.tasks)
            stats = BatchStats(failed_before=previous.failed)
            started = time.perf_counter()
            try:
                _run(files, target, writer, previous.counts, config, ray_config, analyzer_factory, stats)
            except (KeyboardInterrupt, Terminated) as exc:
                if writer is not None:
                    exc.written = writer.written  # type: ignore[attr-defined]  # for the resume hint
                raise
            finally:
                stats.seconds = time.perf_counter() - started
        finally:
            if started_ray:
                ray.shutdown()
    finally:
        if writer is not None:
            writer.close()
    return stats


def _connect(cfg: RayConfig) -> bool:
    """Join ``cfg.address`` or start a local Ray; True when this call started it (and must stop it)."""
    import ray  # lazy: Ray is an optional extra (.[ray], ~250 MB)

    if ray.is_initialized():
        return False
    # The driver's environment travels to a local Ray's workers; a cluster needs the package in its image
    # or runtime environment (docs/scale-out.md).
    # The actors' stderr (library warnings, weight-loading bars) reaches the terminal only with -v; a failure
    # still arrives as the job's exception.
    kwargs: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": logging.WARNING,
        "log_to_driver": log.isEnabledFor(logging.DEBUG),
    }
    address = cfg.address or os.environ.get("RAY_ADDRESS")  # set inside `ray job submit`
    if address is None:
        loopback_only()
        kwargs.update(num_cpus=cfg.num_cpus, _node_ip_address="127.0.0.1")
    t0 = time.perf_counter()
    try:
        # Ray bounds its own start: a raylet that is not up in 30 s, or a cluster that does not answer, raises.
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, TimeoutError, ValueError) as exc:
        raise BatchError(f"cannot start or reach Ray ({address or 'local'}): {exc}") from exc
    log.info("Ray up in %.1f s (%s)", time.perf_counter() - t0, address or "local")
    return True


def loopback_only() -> None:
    """Make a local Ray listen on 127.0.0.1 only.

    By default even a local Ray binds every interface and advertises the host's address; with clusters turned
    off (Ray's RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, its default on laptops) it uses the loopback address. The
    variable is read when ray is imported, by this process (hence the constant too) and by the processes it starts.
    """
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray._private.ray_constants as ray_constants  # lazy: Ray is an optional extra

    ray_constants.ENABLE_RAY_CLUSTER = False


def _run(
    files: list[InputFile],
    target: OutputTarget,
    writer: RecordWriter | None,
    already: Counter[str],
    config: BatchConfig,
    ray_config: RayConfig,
    factory: AnalyzerFactory,
    stats: BatchStats,
) -> None:
    import ray.data  # lazy: Ray is an optional extra (.[ray], ~250 MB)

    ctx = ray.data.DataContext.get_current()
    saved = (ctx.execution_options.preserve_order, ctx.target_max_block_size, ctx.enable_progress_bars)
    # A JSONL file gets the records in input order; shards need no order, and a slow window then holds none back.
    ctx.execution_options.preserve_order = not target.is_folder
    # One window per block: Ray hands actors whole blocks, so big blocks would leave all but one actor idle.
    ctx.target_max_block_size = 1
    ctx.enable_progress_bars = config.progress
    if not log.isEnabledFor(logging.DEBUG):  # Ray Data's plan and timing lines only with -v
        logging.getLogger("ray.data").setLevel(logging.WARNING)
    try:
        window_rows = config.batch_size * config.window_factor
        ds = ray.data.from_items([{"file": pickle.dumps(f)} for f in files], override_num_blocks=len(files)).flat_map(
            _WindowReader(window_rows, already, len(files) > 1, config.encoding, config.rename),
            num_cpus=0,  # reading is light next to the models and must not wait for a CPU the actors hold
        )
        ds = ds.map_batches(
            WindowActor,
            fn_constructor_kwargs={
                "factory": factory,
                "config": replace(config, progress=False),
                "threads": max(1, int(ray_config.cpus_per_actor)),
                "folder": target.path if target.is_folder else None,
                "shard_format": target.shard_format,
            },
            batch_size=1,
            batch_format="pyarrow",
            # Ray Data's actor defaults do the fault tolerance: a dead actor is restarted (max_restarts=-1)
            # and its window retried (max_task_retries=-1); an actor that cannot even start (models that
            # fail to load) fails the job after DataContext.max_consecutive_actor_init_deaths attempts.
            compute=ray.data.ActorPoolStrategy(size=ray_config.num_actors),
            num_cpus=ray_config.cpus_per_actor,
        )
        try:
            _collect(ds.iter_rows(), writer, stats)
        except ray.exceptions.RayError as exc:
            raise BatchError(job_error(exc)) from exc
    finally:
        ctx.execution_options.preserve_order, ctx.target_max_block_size, ctx.enable_progress_bars = saved


def _collect(rows: Iterator[dict[str, Any]], writer: RecordWriter | None, stats: BatchStats) -> None:
    """Sum the windows' counts; for a file output also write their records, in input order.

    A window that carries an input fault stops the job there, after the windows before it, as ``run_batch``
    stops after the rows read before the fault."""
    for row in rows:
        if row["fault"]:
            raise pickle.loads(row["fault"])
        stats.rows_in += row["rows_in"]
        stats.skipped += row["skipped"]
        stats.ok += row["ok"]
        stats.failed += row["failed"]
        if writer is not None:
            for record in pickle.loads(row["records"]):
                writer.write(record)
            writer.sync()


def job_error(exc: BaseException) -> str:
    """One line for a failed Ray job: the user's exception (last line of Ray's traceback), not Ray's wrapper."""
    text = _ANSI.sub("", str(exc))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    cause = next((line for line in reversed(lines) if _EXCEPTION_LINE.match(line)), lines[0] if lines else "")
    if "creation task" in text:  # WindowActor.__init__ raised: the models did not load
        return f"the Ray job failed: cannot load the models: {cause}"
    return f"the Ray job failed: {cause}; rerun the same command to resume"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*:")


class _WindowReader:
    """flat_map function: one input file → one row per window (the window's items pickled whole). ``encoding``
    and ``rename`` are the batch options ``--encoding`` and ``--*-field``, applied to every file."""

    def __init__(
        self,
        window_rows: int,
        already: Counter[str],
        multi_file: bool,
        encoding: str | None = None,
        rename: dict[str, str] | None = None,
    ):
        self.window_rows, self.already, self.multi_file = window_rows, already, multi_file
        self.encoding, self.rename = encoding, rename

    def __call__(self, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
        source: InputFile = pickle.loads(row["file"])
        windows = read_windows(source, self.window_rows, self.already, self.multi_file, self.encoding, self.rename)
        for window in windows:
            yield {
                "key": window.key,
                "items": pickle.dumps(window.items),
                "skipped": window.skipped,
                "rows_in": window.rows_in,
                "fault": pickle.dumps(window.fault) if window.fault is not None else b"",
            }


class _ListWriter:
    """Stands in for RecordWriter inside an actor: the window runner writes its records into a list."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def write(self, record: dict[str, Any]) -> None:
        self.records.append(record)

    def sync(self) -> None:
        pass


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass


class WindowActor:
    """One model replica: loads the models once, then analyses one window per call."""

    def __init__(
        self,
        factory: AnalyzerFactory,
        config: BatchConfig,
        threads: int,
        folder: str | None,
        shard_format: str | None,
    ):
        import torch  # lazy: heavy; the actor process needs it, the driver does not

        torch.set_num_threads(threads)  # one replica per CPU share: more threads would fight the others
        self.analyzer = factory()
        self.analyzer.warm_up(config.options.tasks)  # load now: a load error stops the job, not one window
        self.config, self.folder, self.shard_format = config, folder, shard_format
        if folder is not None:
            import ray  # lazy: Ray is an optional extra (.[ray], ~250 MB)

            self.job = ray.get_runtime_context().get_job_id()  # the job this actor writes for

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        keys = ("records", "rows_in", "skipped", "ok", "failed", "fault")
        out: dict[str, list[Any]] = {k: [] for k in keys}
        for row in batch.to_pylist():
            stats, writer = BatchStats(), _ListWriter()
            WindowRunner(self.analyzer, self.config, writer, stats, _NoBar()).run(pickle.loads(row["items"]))
            if self.folder is not None:
                if writer.records:
                    write_shard(self.folder, row["key"], writer.records, self.shard_format or "jsonl", self.job)
                records: list[dict[str, Any]] = []  # written already: nothing more to send to the driver
            else:
                records = writer.records
            out["records"].append(pickle.dumps(records))  # pickled: the driver writes exactly these dicts
            out["rows_in"].append(row["rows_in"])
            out["skipped"].append(row["skipped"])
            out["ok"].append(stats.ok)
            out["failed"].append(stats.failed)
            out["fault"].append(row["fault"])
        return out
