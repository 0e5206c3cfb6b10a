"""The code location's resources: the lake, the HTTP client, the Hugging Face Hub, the alert rules, and where
each price source fetches from. Each setting defaults from an environment variable when it is set, as a
`dg.EnvVar` (read when a run starts, never shown in the UI), so tests and users can repoint any URL."""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field, PrivateAttr

from assets.keys import source_resource_key
from llmprices.alerts.rules import AlertConfig, load_config
from llmprices.catalog import hf_params
from llmprices.http import USER_AGENT, HttpClient
from llmprices.lake.store import DEFAULT_LAKE_URI, LAKE_URI_ENV, Lake
from llmprices.payloads import RawPayload
from llmprices.sources import (
    artificialanalysis,
    genai_prices,
    html_pages,
    huggingface,
    litellm,
    openrouter,
    openrouter_endpoints,
)
from llmprices.sources.base import SourceNotConfigured

ALERTS_FILE_ENV = "PRICE_ALERTS_FILE"
FETCH_DEADLINE_ENV = "PRICE_FETCH_DEADLINE_S"
#: Seconds a source's whole fetch may take: generous for a few hundred requests, short of a stalled run.
DEFAULT_FETCH_DEADLINE_S = 300


def from_env(name: str, default: str) -> str:
    """`dg.EnvVar(name)` when the variable is set, else `default`."""
    return dg.EnvVar(name) if os.environ.get(name) else default


class LakeResource(dg.ConfigurableResource):
    """The lake's root URI (env `PRICE_LAKE_URI`): a folder, or an s3:// / gs:// / fsspec URI."""

    root_uri: str = DEFAULT_LAKE_URI

    def lake(self) -> Lake:
        return Lake(self.root_uri)


class HttpResource(dg.ConfigurableResource):
    """How politely and how long to talk to sources; one requests session per step. `fetch_deadline_s` (env
    `PRICE_FETCH_DEADLINE_S`) bounds a source's whole fetch, retries and `Retry-After` waits included;
    `progress_timeout_s` bounds each 64 KiB of an answer (a server trickling bytes never trips a read timeout)."""

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    progress_timeout_s: float = 30.0
    fetch_deadline_s: int = DEFAULT_FETCH_DEADLINE_S
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
            progress_timeout_s=self.progress_timeout_s,
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

    def fetch_client(self) -> HttpClient:
        """The client for one source's fetch: everything it does ends within `fetch_deadline_s`."""
        return self.client().within(self.fetch_deadline_s)


class HubResource(dg.ConfigurableResource):
    """Where the Hugging Face Hub API and files live (env `HF_HUB_API_BASE`, `HF_HUB_FILES_BASE`)."""

    api_base: str = hf_params.DEFAULT_API_BASE
    files_base: str = hf_params.DEFAULT_FILES_BASE


class AlertsResource(dg.ConfigurableResource):
    """The alert rules file users edit (env `PRICE_ALERTS_FILE`; see `llmprices/alerts/example_rules.yaml`).
    Empty means alerts are off: nothing is sent, and `alert_deliveries` says so."""

    rules_file: str = ""

    def load(self) -> AlertConfig | None:
        return load_config(self.rules_file) if self.rules_file else None


# -- where each source fetches from ---------------------------------------------------------------------
class OpenRouterSource(dg.ConfigurableResource):
    """Where OpenRouter's API lives (env `OPENROUTER_API_BASE`)."""

    api_base: str = openrouter.DEFAULT_API_BASE

    def fetch(self, http: HttpClient) -> list[RawPayload]:
        return openrouter.fetch(http, self.api_base)


class OpenRouterEndpointsSource(dg.ConfigurableResource):
    """Where OpenRouter's API lives (env `OPENROUTER_API_BASE`), and models to fetch besides open-weight ones."""

    api_base: str = openrouter.DEFAULT_API_BASE
    extra_models: list[str] = Field(
        default_factory=list, description="OpenRouter model ids (`author/slug`) to fetch even without a hugging_face_id"
    )

    def fetch(self, http: HttpClient) -> list[RawPayload]:
        return openrouter_endpoints.fetch(http, self.api_base, self.extra_models)


class HuggingFaceSource(dg.ConfigurableResource):
    """Where the Hugging Face router lives (env `HF_ROUTER_API_BASE`)."""

    api_base: str = huggingface.DEFAULT_API_BASE

    def fetch(self, http: HttpClient) -> list[RawPayload]:
        return huggingface.fetch(http, self.api_base)


class LiteLLMSource(dg.ConfigurableResource):
    """Where LiteLLM's price file lives (env `LITELLM_PRICES_URL`)."""

    url: str = litellm.DEFAULT_URL

    def fetch(self, http: HttpClient) -> list[RawPayload]:
        return litellm.fetch(http, self.url)


class GenaiPricesSource(dg.ConfigurableResource):
    """Where genai-prices' data file lives (env `GENAI_PRICES_URL`)."""

    url: str = genai_prices.DEFAULT_URL

    def fetch(self, http: HttpClient) -> list[RawPayload]:
        return genai_prices.fetch(http, self.url)


class ArtificialAnalysisSource(dg.ConfigurableResource):
    """Where the API lives (env `ARTIFICIALANALYSIS_API_BASE`) and its key (env `ARTIFICIALANALYSIS_API_KEY`);
    without a key the source is skipped as not configured."""

    api_base: str = artificialanalysis.DEFAULT_API_BASE
    api_key: str = Field(default="", repr=False)

    def fetch(self, http: HttpClient) -> list[RawPayload]:
        return artificialanalysis.fetch(http, self.api_base, self.api_key)


class HtmlPagesSource(dg.ConfigurableResource):
    """Which pricing pages to fetch: a YAML list at `pages_file` (env `HTML_PAGES_FILE`)."""

    pages_file: str = html_pages.DEFAULT_PAGES_FILE

    def fetch(self, http: HttpClient) -> list[RawPayload]:
        return html_pages.fetch(http, self.pages_file)


class CsvImportSource(dg.ConfigurableResource):
    """Nothing to fetch: CSV prices come in through `llmprices import-csv FILE`."""

    def fetch(self, http: HttpClient) -> list[RawPayload]:
        raise SourceNotConfigured("CSV prices are imported with `llmprices import-csv FILE`")


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Every resource of the code location, each setting from its environment variable where that is set."""
    sources = {
        "openrouter": OpenRouterSource(
            api_base=from_env(openrouter.API_BASE_ENV, openrouter.DEFAULT_API_BASE),
        ),
        "openrouter_endpoints": OpenRouterEndpointsSource(
            api_base=from_env(openrouter.API_BASE_ENV, openrouter.DEFAULT_API_BASE),
        ),
        "huggingface": HuggingFaceSource(api_base=from_env(huggingface.API_BASE_ENV, huggingface.DEFAULT_API_BASE)),
        "litellm": LiteLLMSource(url=from_env(litellm.URL_ENV, litellm.DEFAULT_URL)),
        "genai_prices": GenaiPricesSource(url=from_env(genai_prices.URL_ENV, genai_prices.DEFAULT_URL)),
        "artificialanalysis": ArtificialAnalysisSource(
            api_base=from_env(artificialanalysis.API_BASE_ENV, artificialanalysis.DEFAULT_API_BASE),
            api_key=from_env(artificialanalysis.API_KEY_ENV, ""),
        ),
        "html": HtmlPagesSource(pages_file=from_env(html_pages.PAGES_FILE_ENV, html_pages.DEFAULT_PAGES_FILE)),
        "csv": CsvImportSource(),
    }
    return {
        "lake": LakeResource(root_uri=from_env(LAKE_URI_ENV, DEFAULT_LAKE_URI)),
        "http": HttpResource(
            fetch_deadline_s=dg.EnvVar.int(FETCH_DEADLINE_ENV)
            if os.environ.get(FETCH_DEADLINE_ENV)
            else DEFAULT_FETCH_DEADLINE_S
        ),
        "hf_hub": HubResource(
            api_base=from_env(hf_params.API_BASE_ENV, hf_params.DEFAULT_API_BASE),
            files_base=from_env(hf_params.FILES_BASE_ENV, hf_params.DEFAULT_FILES_BASE),
        ),
        "alerts": AlertsResource(rules_file=from_env(ALERTS_FILE_ENV, "")),
        **{source_resource_key(name): resource for name, resource in sources.items()},
    }
