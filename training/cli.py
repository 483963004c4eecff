"""The training package's commands in ``nlp-service`` (entry points of the group ``nlp_service.commands`` in
pyproject.toml): ``nlp-service train ARGS…`` and ``nlp-service eval ARGS…`` run the same code as
``python -m training.train_classifier ARGS…`` (``training.train_own_themes`` with ``--taxonomy own``) and
``python -m training.evaluation.run ARGS…``, with the same exit codes."""

from __future__ import annotations


def own_taxonomy(args: list[str]) -> bool:
    """``--taxonomy own`` (or ``--taxonomy=own``) among ``args``: theme heads for the user's own labels."""
    pairs = zip(args, args[1:], strict=False)
    return "--taxonomy=own" in args or any(a == "--taxonomy" and b == "own" for a, b in pairs)


def train_main(args: list[str]) -> int:
    """``nlp-service train``: the classifier, or with ``--taxonomy own`` theme heads for your own labels."""
    if own_taxonomy(args):
        from training import train_own_themes  # lazy: each command imports only its own modules (torch, transformers)

        return train_own_themes.main(args)
    from training import train_classifier  # lazy: torch and transformers, for this command only

    train_classifier.main(args)
    return 0


def eval_main(args: list[str]) -> int:
    """``nlp-service eval``: the evaluation report; exit code 1 when it produced no results."""
    from training.evaluation import run  # lazy: torch and the models, for this command only

    return 0 if run.main(args) else 1
