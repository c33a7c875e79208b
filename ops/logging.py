"""One JSON object per log line on stdout, for journald, Docker or a log shipper."""
import json
import logging
from datetime import datetime, timezone

_STANDARD = set(vars(logging.LogRecord("x", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            # Extra fields given with logger.x(..., extra={...}); never the request object itself.
            if key not in _STANDARD and not key.startswith("_") and key != "request":
                data[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class NoTracebackForClientErrors(logging.Filter):
    """Drop the traceback from django.request's 4xx lines (403 from PermissionDenied, 400 from
    SuspiciousOperation): the refusal is the expected outcome, not a fault, and a traceback per
    refused request buries real errors. The one-line warning with path and status stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
