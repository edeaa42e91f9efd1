"""Types for values that cross the HTTP edge, where pydantic's lax mode would accept what the
published schema refuses: a number as a ``date-time`` (``endsAt: 0`` read as 1970), ``true`` as an
integer. Request models are ``strict``; timestamps stay lax only so FastAPI (which validates the
decoded JSON in Python mode) still parses RFC 3339 text, and refuse anything but text first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator, ConfigDict, Field


def _text_only(value: Any) -> Any:
    if not isinstance(value, str | datetime):
        raise ValueError("must be an RFC 3339 date-time string")
    return value


#: a request model's config: no coercion of ``"5"`` or ``true`` to 5
STRICT = ConfigDict(strict=True)
#: an RFC 3339 timestamp (with or without an offset); numbers are refused
Timestamp = Annotated[datetime, BeforeValidator(_text_only), Field(strict=False)]
#: an RFC 3339 timestamp with an offset; numbers are refused
AwareTimestamp = Annotated[AwareDatetime, BeforeValidator(_text_only), Field(strict=False)]
