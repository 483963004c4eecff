"""The HTTP service (``nlp-service serve``): the FastAPI app, its limits, and the micro-batcher that runs the
model calls on one thread behind a bounded queue. ``app.py`` describes the endpoints and their answers."""

from nlp_service.serve.app import create_app
from nlp_service.serve.config import ServerConfig, uvicorn_config
from nlp_service.serve.jobs import JobLimits
from nlp_service.serve.microbatch import BatcherConfig, DeadlinePassed, MicroBatcher, QueueFull

__all__ = [
    "BatcherConfig",
    "DeadlinePassed",
    "JobLimits",
    "MicroBatcher",
    "QueueFull",
    "ServerConfig",
    "create_app",
    "uvicorn_config",
]
