"""Structured JSON logs, one line per event, with service, trace id and event id."""

from __future__ import annotations

import logging
import sys

import orjson
import structlog

from hallway_common.tracing import event_id_var, trace_id_var


def _add_context(_logger: object, _method: str, event_dict: dict) -> dict:
    trace_id = trace_id_var.get()
    if trace_id:
        event_dict.setdefault("trace_id", trace_id)
    event_id = event_id_var.get()
    if event_id:
        event_dict.setdefault("event_id", event_id)
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route structlog and stdlib logging (grpc, aiokafka, uvicorn) to JSON on stdout."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_context,
    ]
    structlog.contextvars.bind_contextvars(service=service)
    renderer = structlog.processors.JSONRenderer(serializer=lambda o, **_: orjson.dumps(o).decode())
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party libraries are chatty at INFO; their warnings still come through.
    for name in ("aiokafka", "kafka", "opensearch", "faststream", "uvicorn.access"):
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def get_logger(name: str | None = None) -> structlog.typing.FilteringBoundLogger:
    """A structured logger; ``name`` becomes the ``module`` field."""
    # Stays a lazy proxy, so module-level loggers pick up configure_logging() later.
    return structlog.get_logger(module=name) if name else structlog.get_logger()
