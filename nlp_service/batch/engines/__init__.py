"""Batch engines: the same job (input rows in, the same JSON records out) on one process or on a Ray cluster.

- ``local``: ``nlp_service.batch.runner.run_batch`` in this process (the default engine).
- ``ray``: Ray Data over a pool of actors that each load the models once (optional extra ``.[ray]``).

Both cut the input into the same windows (``inputs.read_windows``) and analyse a window with batch.py's own
window runner, so a record depends only on its window, never on the engine: the int8 classifier quantises
activations per batch, so a record's scores depend on which articles share its batch.
"""

ENGINES = ("local", "ray")
