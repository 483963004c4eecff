"""The Ray engine against the local one: identical records, error records, restart, a killed actor.

One local Ray (2 CPUs, no dashboard, 127.0.0.1) serves the whole module. Marked ``ray``: ``make test-fast``
skips them; ``make test`` (CI) installs the extra and runs them.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed (make setup-ray)")

from nlp_service import cli  # noqa: E402
from nlp_service.batch import BatchConfig, BatchError, run_batch  # noqa: E402
from nlp_service.batch.engines.outputs import read_output, shard_paths  # noqa: E402
from nlp_service.batch.engines.ray import RayConfig, loopback_only, run_ray  # noqa: E402

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "scripts"))
from make_articles import synthetic_articles, write_jsonl  # noqa: E402
from ray_fakes import broken, slow_fake  # noqa: E402

START_TIMEOUT_S = 120  # a Ray that does not come up in this time fails the module instead of hanging CI
TEST_TIMEOUT_S = 240


class _Deadline:
    """SIGALRM after ``seconds``: a hung Ray job fails its test rather than the whole CI run."""

    def __init__(self, seconds: int):
        self.seconds = seconds

    def __enter__(self) -> None:
        def fire(signum, frame):
            raise TimeoutError(f"gave up after {self.seconds} s")

        self._old = signal.signal(signal.SIGALRM, fire)
        signal.alarm(self.seconds)

    def __exit__(self, *exc: object) -> None:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self._old)


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    # The actors import the tests' fakes: a local Ray's workers inherit this environment.
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), str(TESTS), old) if p)
    loopback_only()
    with _Deadline(START_TIMEOUT_S):
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            logging_level="WARNING",
            log_to_driver=False,
        )
    address = ray.get_runtime_context().gcs_address
    assert address.startswith("127.0.0.1:"), "a local Ray listens on the loopback address only"
    yield address
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


@pytest.fixture(autouse=True)
def deadline():
    with _Deadline(TEST_TIMEOUT_S):
        yield


def quiet(**kw) -> BatchConfig:
    return BatchConfig(progress=False, **kw)


def ids_of(path: Path) -> list[str]:
    return [r["id"] for r in read_output(str(path))]


def test_200_articles_give_the_local_engines_records_byte_for_byte(tmp_path, checkpoints, capsys):
    src = write_jsonl(synthetic_articles(200), tmp_path / "in.jsonl")
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    common = ["batch", "--input", str(src), "--no-progress", "--checkpoint", str(checkpoints)]
    assert cli.main([*common, "--output", str(local)]) == 0
    assert cli.main([*common, "--output", str(on_ray), "--engine", "ray", "--num-actors", "2"]) == 0

    assert on_ray.read_bytes() == local.read_bytes()
    records = read_output(str(on_ray))
    assert len(records) == 200 and all("error" not in r and r["summary"] for r in records)
    assert "rows in: 200, ok: 200, failed: 0" in capsys.readouterr().err


def test_bad_rows_become_the_same_error_records(tmp_path, real_analyzer, checkpoints):
    good = synthetic_articles(6)
    src = write_jsonl(
        [
            good[0],
            "{broken json",
            "[1, 2]",
            {"id": "num", "text": 5},
            {"id": "none"},
            {"id": "blank", "text": "   "},
            {"id": "a0000", "text": "the same id again"},
            good[1],
            {"title": "Only a title about an election in Chile"},
            *good[2:],
        ],
        tmp_path / "in.jsonl",
    )
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(real_analyzer, str(src), str(local), quiet(batch_size=4))
    stats = run_ray(str(src), str(on_ray), quiet(batch_size=4), RayConfig(num_actors=2), checkpoint=checkpoints)

    assert on_ray.read_bytes() == local.read_bytes()
    errors = [r["error"] for r in read_output(str(on_ray)) if "error" in r]
    assert len(errors) == 6 and any(e.startswith("line 7: duplicate id (the same as line 1;") for e in errors)
    assert errors[:2] == ["line 2: not a JSON object", "line 3: not a JSON object"]
    assert (stats.rows_in, stats.ok, stats.failed) == (13, 7, 6)


def test_a_killed_actor_is_retried_and_every_id_comes_out_once(tmp_path):
    n = 320
    src = write_jsonl(
        [{"id": f"r{i:03d}", "text": f"Article {i} from Chile."} for i in range(n)], tmp_path / "in.jsonl"
    )
    out, pids = tmp_path / "out.jsonl", tmp_path / "pids"
    factory = functools.partial(slow_fake, str(pids), 0.05)  # 32-row windows of ~1.6 s each
    result: dict = {}

    def job():
        try:
            result["stats"] = run_ray(
                str(src), str(out), quiet(batch_size=4), RayConfig(num_actors=2), analyzer_factory=factory
            )
        except BaseException as exc:  # handed to the test thread
            result["error"] = exc

    worker = threading.Thread(target=job)
    worker.start()
    while worker.is_alive() and not (out.exists() and out.stat().st_size > 0):
        time.sleep(0.05)  # the first window is written: both actors are busy with later ones
    victim = int(sorted(pids.iterdir(), key=lambda p: p.stat().st_mtime)[0].read_text())
    os.kill(victim, signal.SIGKILL)
    worker.join(timeout=TEST_TIMEOUT_S - 30)

    assert "error" not in result, result.get("error")
    assert len(list(pids.iterdir())) >= 3, "the killed actor was restarted"
    assert ids_of(out) == [f"r{i:03d}" for i in range(n)]
    assert (result["stats"].ok, result["stats"].skipped) == (n, 0)


_DRIVER = """
import sys, functools
sys.path[:0] = [sys.argv[4]]
from ray_fakes import slow_fake
from nlp_service.batch import BatchConfig
from nlp_service.batch.engines.ray import RayConfig, run_ray
run_ray(sys.argv[1], sys.argv[2], BatchConfig(batch_size=4, progress=False), RayConfig(address=sys.argv[3]),
        analyzer_factory=functools.partial(slow_fake, sys.argv[5], 0.05))
"""


def test_a_job_restarted_after_its_driver_died_writes_every_id_once(tmp_path, local_ray):
    n = 320
    src = write_jsonl(
        [{"id": f"r{i:03d}", "text": f"Article {i} from Japan."} for i in range(n)], tmp_path / "in.jsonl"
    )
    folder, pids = tmp_path / "shards", tmp_path / "pids"
    proc = subprocess.Popen(
        [sys.executable, "-c", _DRIVER, str(src), str(folder), local_ray, str(TESTS), str(pids)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        while proc.poll() is None and not (folder.is_dir() and shard_paths(str(folder))):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    # Ray stops the dead driver's actors within seconds; wait, so that the count below is final.
    old_actors = [int(p.read_text()) for p in pids.iterdir()]
    deadline = time.monotonic() + 60
    while any(_alive(pid) for pid in old_actors) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in old_actors), "Ray did not stop the dead job's actors"
    before = Counter(ids_of(folder))
    assert 0 < sum(before.values()) < n, "the kill should land in the middle of the job"

    factory = functools.partial(slow_fake, str(pids), 0.0)
    stats = run_ray(str(src), str(folder), quiet(batch_size=4), RayConfig(), analyzer_factory=factory)
    after = Counter(ids_of(folder))
    assert sorted(after) == [f"r{i:03d}" for i in range(n)] and set(after.values()) == {1}
    assert stats.skipped == sum(before.values()) and stats.ok == n - stats.skipped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_resume_of_a_jsonl_file_matches_the_local_engines_resume(tmp_path, fake_analyzer):
    src = write_jsonl(synthetic_articles(60), tmp_path / "in.jsonl")
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(fake_analyzer, str(src), str(local), quiet())
    lines = local.read_bytes().splitlines(keepends=True)
    partial = b"".join(lines[:25]) + lines[25][:30]  # as if killed while writing the 26th record
    on_ray.write_bytes(partial)
    factory = functools.partial(slow_fake, str(tmp_path / "pids"), 0.0)
    stats = run_ray(str(src), str(on_ray), quiet(), RayConfig(), analyzer_factory=factory)
    assert on_ray.read_bytes() == local.read_bytes()
    assert (stats.rows_in, stats.skipped, stats.ok) == (60, 25, 35)


def test_a_folder_of_parquet_and_csv_files_goes_to_parquet_shards(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "in").mkdir()
    pq.write_table(
        pa.table({"id": ["p1", "p2"], "text": ["Kenya votes.", "Norway wins the match."]}),
        tmp_path / "in" / "a.parquet",
    )
    (tmp_path / "in" / "b.csv").write_text("title,body\nFlood in India,Rivers rose.\n", encoding="utf-8")
    factory = functools.partial(slow_fake, str(tmp_path / "pids"), 0.0)
    out = tmp_path / "out"
    stats = run_ray(
        str(tmp_path / "in"), str(out), quiet(), RayConfig(shard_format="parquet"), analyzer_factory=factory
    )
    records = {r["id"]: r for r in read_output(str(out))}
    assert sorted(records) == ["#b.csv:1", "p1", "p2"] and stats.ok == 3
    assert records["p1"]["countries"][0]["code"] == "KE" and records["#b.csv:1"]["countries"][0]["code"] == "IN"
    assert all(p.endswith(".parquet") for p in shard_paths(str(out)))


def test_models_that_cannot_load_fail_the_job_with_one_clear_error(tmp_path):
    src = write_jsonl(synthetic_articles(3), tmp_path / "in.jsonl")
    factory = functools.partial(broken, "weights missing")
    with pytest.raises(BatchError, match="the Ray job failed") as err:
        run_ray(str(src), str(tmp_path / "o.jsonl"), quiet(), RayConfig(num_actors=1), analyzer_factory=factory)
    assert str(err.value) == "the Ray job failed: cannot load the models: OSError: weights missing"
    assert not (tmp_path / "o.jsonl").exists() or (tmp_path / "o.jsonl").read_text() == ""


@pytest.mark.parametrize("output", ["out.jsonl", "shards"])
def test_a_resume_follows_the_local_engines_rules(tmp_path, output):
    from nlp_service.analyzer import AnalyzeOptions

    src = write_jsonl(
        [{"id": "a", "text": "Kenya held an election."}, {"id": "b"}, {"id": "c", "text": "Chile votes."}],
        tmp_path / "in.jsonl",
    )
    out = tmp_path / output
    factory = functools.partial(slow_fake, str(tmp_path / "pids"), 0.0)
    classify = quiet(options=AnalyzeOptions(tasks=("classify",)))
    first = run_ray(str(src), str(out), classify, RayConfig(), analyzer_factory=factory)
    assert (first.ok, first.failed, first.exit_code) == (2, 1, 1)
    errors = [r.get("error") for r in read_output(str(out))]
    assert errors[1] == "line 2: row has no text (expected 'text' or 'title'+'body')"

    # A resume must make the same fields as the records it continues.
    with pytest.raises(BatchError, match="--tasks classify") as err:
        run_ray(str(src), str(out), quiet(), RayConfig(), analyzer_factory=factory)
    assert err.value.exit_code == 2

    again = run_ray(str(src), str(out), classify, RayConfig(), analyzer_factory=factory)
    assert (again.skipped, again.ok, again.failed, again.failed_before) == (3, 0, 0, 1)
    assert again.exit_code == 1  # the earlier run's error record still counts
    assert len(read_output(str(out))) == 3


def test_a_missing_input_is_a_file_fault(tmp_path):
    from nlp_service.batch import EXIT_IO

    missing, out = str(tmp_path / "nope.jsonl"), str(tmp_path / "o.jsonl")
    assert cli.main(["batch", "-i", missing, "-o", out, "--engine", "ray", "--no-progress"]) == EXIT_IO


def test_a_file_without_a_text_field_stops_the_job_as_locally(tmp_path):
    src = write_jsonl([{"id": "a", "headline": "Kenya votes."}], tmp_path / "in.jsonl")
    factory = functools.partial(slow_fake, str(tmp_path / "pids"), 0.0)
    with pytest.raises(BatchError, match="has a 'text', 'title' or 'body' field") as err:
        run_ray(str(src), str(tmp_path / "o.jsonl"), quiet(), RayConfig(), analyzer_factory=factory)
    assert type(err.value) is BatchError and err.value.exit_code == 2
    assert (tmp_path / "o.jsonl").read_text() == ""


def test_the_files_own_column_names_and_encoding_are_read_as_locally(tmp_path, fake_analyzer):
    """--id-field / --text-field / --title-field / --body-field and --encoding reach Ray's readers."""
    src = tmp_path / "in.csv"
    src.write_bytes("story,headline,article\ns1,Zürich talks,Kenya and France sign.\ns2,Müller wins,Chile votes.\n"
                    .encode("latin-1"))
    config = quiet(encoding="latin-1", rename={"story": "id", "headline": "title", "article": "body"})
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    run_batch(fake_analyzer, str(src), str(local), config)
    factory = functools.partial(slow_fake, str(tmp_path / "pids"), 0.0)
    stats = run_ray(str(src), str(on_ray), config, RayConfig(num_actors=1), analyzer_factory=factory)
    assert on_ray.read_bytes() == local.read_bytes() and (stats.ok, stats.failed) == (2, 0)
    assert [r["id"] for r in read_output(str(on_ray))] == ["s1", "s2"]
    assert [c["code"] for c in read_output(str(on_ray))[0]["countries"]] == ["FR", "KE"]


def test_csv_and_parquet_outputs_on_ray_equal_the_local_engines(tmp_path, checkpoints):
    import csv

    import pyarrow.parquet as pq

    src = tmp_path / "in.csv"
    with src.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["key", "story"])
        writer.writerows([(a["id"], a.get("text") or a["title"] + "\n" + a["body"]) for a in synthetic_articles(4)])
    common = ["batch", "-i", str(src), "--no-progress", "--checkpoint", str(checkpoints), "--tasks", "classify",
              "--id-field", "key", "--text-field", "story"]
    for suffix in ("csv", "parquet"):
        local, on_ray = tmp_path / f"local.{suffix}", tmp_path / f"ray.{suffix}"
        assert cli.main([*common, "-o", str(local)]) == 0
        assert cli.main([*common, "-o", str(on_ray), "--engine", "ray", "--num-actors", "1"]) == 0
        assert on_ray.is_file() and not Path(f"{on_ray}.partial.jsonl").exists()
        if suffix == "csv":
            assert on_ray.read_bytes() == local.read_bytes()
        else:
            assert pq.read_table(on_ray).to_pylist() == pq.read_table(local).to_pylist()
        assert len(pq.read_table(on_ray).to_pylist() if suffix == "parquet" else on_ray.read_text().splitlines()) >= 4
