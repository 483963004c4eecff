"""``nlp-service serve``: the HTTP service on uvicorn, its socket bound here so that a bad address is one line."""

from __future__ import annotations

import argparse
import logging
import socket
import sys

from nlp_service.batch import EXIT_OK
from nlp_service.cli.console import error
from nlp_service.cli.loading import AnalyzerLoader
from nlp_service.runtime import logs

log = logging.getLogger("nlp_service")


def cmd_serve(args: argparse.Namespace, load_analyzer: AnalyzerLoader) -> int:
    try:
        analyzer = load_analyzer(args.checkpoint)  # checks the folder now; the models load in the background
    except (FileNotFoundError, ValueError) as exc:
        return error(str(exc))
    # lazy: fastapi and uvicorn take half a second to import; only this command needs them
    import uvicorn

    from nlp_service.serve import BatcherConfig, ServerConfig, create_app, uvicorn_config  # lazy: fastapi

    # Bound here rather than by uvicorn: a port in use or a host that does not resolve is one clear line.
    try:
        family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    except OSError as exc:
        return error(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")

    import torch  # lazy: torch is heavy; --help and the other commands must not load it here

    # Measured on 2 shared cores: with 2 torch threads, idle OpenMP threads spinning between calls starved the
    # event loop (/healthz p99 > 1 s) and a lone request took 0.6 s; with 1 thread, 0.05 s.
    torch.set_num_threads(args.model_threads)
    logs.configure_serve(args.verbose)  # one JSON object per line: our records, uvicorn's and the access log
    logging.getLogger("nlp_service").setLevel(logging.INFO)  # "models loaded: …" belongs in a server's log
    # The model thread runs Python between its torch calls; a shorter GIL switch interval (default 5 ms) lets
    # the event loop answer /healthz and refuse excess requests promptly meanwhile.
    sys.setswitchinterval(0.001)
    host, port = sock.getsockname()[:2]
    log.info("listening on http://%s:%s (web page at /, API docs at /docs)", host, port)
    server_config = ServerConfig(batching=BatcherConfig(worker_nice=args.model_nice), checkpoints=args.checkpoint)
    app = create_app(analyzer, config=server_config)
    config = uvicorn_config(app, server_config, log_level="info", access_log=False, log_config=None)
    uvicorn.Server(config).run(sockets=[sock])
    return EXIT_OK
