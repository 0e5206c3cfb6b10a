"""Resources shared by every asset: the lake and the HTTP client, configured from the environment."""

from __future__ import annotations

import dagster as dg
from pydantic import Field, PrivateAttr

from assets.sources.base import env_default
from pipeline.http import USER_AGENT, HttpClient
from pipeline.lake import Lake


class LakeResource(dg.ConfigurableResource):
    """The lake's root URI (env `PRICE_LAKE_URI`): a folder, or an s3:// / gs:// / fsspec URI."""

    root_uri: str = Field(default_factory=env_default("PRICE_LAKE_URI", "lake"))

    def lake(self) -> Lake:
        return Lake(self.root_uri)


class HttpResource(dg.ConfigurableResource):
    """How politely and how long to talk to sources; one requests session per step."""

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 60.0
    max_retries: int = 4
    backoff_factor_s: float = 1.0
    max_payload_mb: int = 64
    max_concurrent_requests: int = 4
    user_agent: str = USER_AGENT

    _client: HttpClient | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._client = HttpClient(
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            max_retries=self.max_retries,
            backoff_factor_s=self.backoff_factor_s,
            max_payload_bytes=self.max_payload_mb * 1024 * 1024,
            pool_size=self.max_concurrent_requests,
            user_agent=self.user_agent,
        )

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()

    def client(self) -> HttpClient:
        if self._client is None:  # used outside a run (CLI helpers, tests)
            self.setup_for_execution(dg.build_init_resource_context())
        return self._client
