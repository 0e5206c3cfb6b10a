"""A payload exactly as received: the unit of the lake's `raw/` archive and what every parser reads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from llmprices.http import HttpResponse


@dataclass(frozen=True)
class RawPayload:
    """One payload exactly as received, and where and when it came from."""

    name: str
    url: str
    http_status: int
    fetched_at: datetime
    body: bytes

    @classmethod
    def from_response(cls, name: str, response: HttpResponse, url: str | None = None) -> RawPayload:
        """Keep a response as received; `url` replaces the response's when it must not be stored as is."""
        return cls(name, url or response.url, response.status, response.fetched_at, response.body)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()
