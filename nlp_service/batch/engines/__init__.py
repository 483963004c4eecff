"""Batch engines: the same job (input rows in, the same JSON records out) on one process or on a Ray cluster.

- ``local``: ``nlp_service.batch.run_batch`` in this process (the default engine).
- ``ray``: ``engines.ray.run_ray``, Ray Data over a pool of actors that each load the models once (optional
  extra ``.[ray]``; import ``nlp_service.batch.engines.ray`` only to use it).

Both cut the input into the same windows (``inputs.read_windows``) and analyse a window with the runner's own
``WindowRunner``, so a record depends only on its window, never on the engine: the int8 classifier quantises
activations per batch, so a record's scores depend on which articles share its batch.
"""

from nlp_service.batch.engines.outputs import SHARD_FORMATS

ENGINES = ("local", "ray")  # the choices of ``nlp-service batch --engine``

__all__ = ["ENGINES", "SHARD_FORMATS"]
