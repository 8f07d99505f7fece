"""One Settings object for the whole factory, read from ``REEL_*`` environment variables.

Settings are read at the edges (the CLI, flow entry points) and passed down as arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reelfactory.models import Category
from reelfactory.storage import parse_asset_store

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration of one reelfactory installation."""

    model_config = SettingsConfigDict(env_prefix="REEL_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=PROJECT_ROOT / "reel-data",
        description="Local state: database, asset store, local publish target, Prefect server DB.",
    )
    db_url: str = Field(default="", description="SQLAlchemy URL; SQLite in data_dir when empty.")
    brand_kits_dir: Path = Field(
        default=PROJECT_ROOT / "brand_kits", description="One folder per brand: kit.yaml + assets."
    )
    templates_dir: Path = Field(
        default=PROJECT_ROOT / "templates",
        description="One folder per format: format.yaml + shot.j2.",
    )

    # Publishing. Credentials come from the standard AWS chain, never from here.
    s3_endpoint_url: str | None = Field(default=None, description="S3 endpoint (for non-AWS).")
    s3_bucket: str | None = Field(default=None, description="Publish bucket; local dir if unset.")
    s3_region: str = Field(default="us-east-1", description="Region of the buckets.")
    s3_addressing_style: Literal["auto", "path", "virtual"] | None = Field(
        default=None, description="Default: path-style with an endpoint URL, else auto."
    )
    s3_multipart_threshold_mib: int = Field(
        default=64, ge=5, description="Files this large or larger go up in parts."
    )
    s3_part_size_mib: int = Field(default=16, ge=5, le=5120, description="Multipart part size.")
    s3_max_attempts: int = Field(default=5, ge=1, le=20, description="botocore retries.")
    s3_sse: Literal["AES256", "aws:kms", "aws:kms:dsse"] | None = Field(
        default=None, description="Server-side encryption of published objects; none if unset."
    )
    s3_kms_key_id: str | None = Field(default=None, description="KMS key for aws:kms.")
    s3_tags: dict[str, str] = Field(default_factory=dict, description="Object tags (JSON).")
    s3_link_expiry_s: int = Field(
        default=7 * 24 * 3600, ge=60, le=7 * 24 * 3600, description="Presigned link lifetime."
    )
    s3_public_url_template: str | None = Field(
        default=None, description="e.g. https://cdn.example.com/{key} for a bucket behind a CDN."
    )
    publish_prefix: str = Field(default="published", description="Key prefix of published cuts.")
    s3_staging_bucket: str | None = Field(
        default=None, description="Bucket for drafts under review; the publish bucket if unset."
    )
    staging_prefix: str = Field(default="staging", description="Key prefix of drafts.")
    asset_store: str | None = Field(
        default=None,
        description="Work in progress (shots, drafts): s3://bucket/prefix, shared by every "
        "worker; data_dir/assets if unset. Workers then keep only a cache in data_dir.",
    )
    asset_cache_max_gib: float = Field(
        default=20.0,
        gt=0,
        description="Largest a worker's cache of the S3 asset store grows; the least recently "
        "used files go first (none used in the last hour).",
    )

    # Expansion. The template expander is the default; "llm" asks any OpenAI-compatible
    # chat-completions endpoint for the shot directions, falling back to the template.
    expander: Literal["template", "llm"] = Field(
        default="template", description="Who writes shot directions: the template or an LLM."
    )
    llm_base_url: str | None = Field(
        default=None, description="e.g. https://api.openai.com/v1 or a local vLLM/Ollama URL."
    )
    llm_model: str = Field(default="gpt-4o-mini", description="Chat model for 'llm'.")
    llm_api_key: SecretStr | None = Field(default=None, description="Never logged.")
    llm_timeout_s: float = Field(default=30.0, gt=0, description="Per LLM request.")

    # Moderation. Text layers always run; the hosted endpoint and the frame classifier are
    # optional extras. Every layer fails closed: an error or a timeout is a review.
    moderation_timeout_s: float = Field(
        default=120.0, gt=0, description="Time limit for all layers on one subject."
    )
    moderation_remote_url: str | None = Field(
        default=None, description="OpenAI-compatible base URL with POST /moderations; off if unset."
    )
    moderation_remote_model: str = Field(
        default="omni-moderation-latest", description="Model asked by the remote layer."
    )
    moderation_remote_api_key: SecretStr | None = Field(default=None, description="Never logged.")
    moderation_remote_timeout_s: float = Field(
        default=10.0, gt=0, description="Per remote moderation request."
    )
    frame_sample_fps: float = Field(
        default=2.0, gt=0, le=30, description="Frames checked per second of video."
    )
    frame_classifier_model: str | None = Field(
        default=None,
        description="transformers image-classification model id or path; off if unset.",
    )
    frame_classifier_labels: dict[str, Category] = Field(
        default_factory=dict,
        description='Its labels -> our categories (JSON), e.g. {"violence": "violence"}.',
    )

    # Rendering.
    renderer: str = Field(
        default="animatic",
        description="animatic (CPU, no weights) or a model in the registry, e.g. ltx-video.",
    )
    model_registry: Path | None = Field(
        default=None, description="YAML of extra/overriding models (see data/models.yaml)."
    )
    render_device: Literal["auto", "cuda", "cpu"] = Field(
        default="auto", description="Where models run; auto: cuda when available."
    )
    warm_pipelines: int = Field(
        default=1, ge=1, le=8, description="Models kept loaded per worker process (LRU)."
    )
    render_deployment: str | None = Field(
        default=None,
        description="Render shots through this deployment (e.g. render-shots/gpu on the gpu "
        "work pool); in this process when unset.",
    )
    gpu_concurrency_limit: str | None = Field(
        default=None,
        description="Prefect global concurrency limit this worker's GPU is held by (one per "
        "GPU, limit 1); it must exist on the server.",
    )
    render_short_edge: int = Field(
        default=720, ge=64, le=2160, description="Short edge of every cut in pixels (720 -> 720p)."
    )

    # Cost: what a device hour costs you. Unset: costs are reported in seconds only.
    price_gpu_hour: float | None = Field(default=None, ge=0, description="Per GPU-hour.")
    price_cpu_hour: float | None = Field(default=None, ge=0, description="Per CPU-hour.")
    price_currency: str = Field(
        default="USD", min_length=1, max_length=8, description="Currency of the prices."
    )
    render_seconds_per_output_second: float | None = Field(
        default=None,
        gt=0,
        description="Measured render seconds per second of finished video, for campaign "
        "estimates with a model renderer (the animatic's default is 0.5 CPU-s).",
    )

    # Provenance (C2PA). Without a key and chain, `reel` makes a local development CA under
    # data_dir/c2pa on first use and says so: files it signs verify as valid but untrusted
    # anywhere that does not list that CA as a trust anchor.
    c2pa_key_path: Path | None = Field(
        default=None, description="PEM private key (ES256) that signs C2PA manifests."
    )
    c2pa_cert_chain_path: Path | None = Field(
        default=None, description="PEM certificate chain: the signing certificate first."
    )
    c2pa_trust_anchors_path: Path | None = Field(
        default=None, description="PEM CA certificates that `reel verify` trusts."
    )
    c2pa_tsa_url: str | None = Field(
        default=None, description="RFC 3161 time-stamp authority; none if unset."
    )

    # Approval.
    approval_timeout_s: int = Field(
        default=7 * 24 * 3600, ge=1, description="How long a run waits for a decision."
    )
    approval_wait: Literal["pause", "suspend"] = Field(
        default="pause",
        description="pause: a waiting run keeps its process (expiry is audited by the run); "
        "suspend: the process exits and the run resumes on any worker, surviving restarts.",
    )
    approval_poll_s: int = Field(
        default=2, ge=1, description="Seconds between checks while paused."
    )

    # The web app (brief form, status pages, /api/v1).
    web_host: str = Field(default="127.0.0.1", description="Address `reel web` listens on.")
    web_port: int = Field(default=8000, ge=0, le=65535, description="Port of the web app.")
    web_session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="Session lifetime."
    )
    web_secure_cookies: Literal["auto", "always"] = Field(
        default="auto", description="auto: Secure cookies when the request came over https."
    )
    web_upload_max_mib: float = Field(
        default=10.0, gt=0, le=100, description="Largest reference image accepted."
    )
    web_login_attempts: int = Field(
        default=5, ge=1, description="Failed logins per email or client before a pause."
    )
    web_login_window_s: int = Field(default=900, ge=1, description="...inside this many seconds.")
    web_trusted_proxies: list[str] = Field(
        default_factory=list,
        description="SSO proxy IPs (JSON list) whose identity header is believed; none if empty.",
    )
    web_sso_header: str = Field(
        default="X-Forwarded-Email", description="The header a trusted proxy puts the email in."
    )
    prefect_ui_url: str | None = Field(
        default=None, description="Prefect UI base for links; derived from PREFECT_API_URL."
    )

    # Local Prefect stack used by `reel demo` / `reel up` when PREFECT_API_URL is not set.
    prefect_port: int = Field(
        default=4200, ge=0, le=65535, description="Port of the local Prefect server (0: any)."
    )

    @field_validator("asset_store")
    @classmethod
    def _asset_store_url(cls, value: str | None) -> str | None:
        if value:
            parse_asset_store(value)  # raises naming the value
        return value or None

    @model_validator(mode="after")
    def _default_db_url(self) -> Settings:
        if not self.db_url:
            self.db_url = f"sqlite:///{self.data_dir / 'reel.db'}"
        return self

    @property
    def assets_dir(self) -> Path:
        return self.data_dir / "assets"

    @property
    def c2pa_dir(self) -> Path:
        """Where the local development signing CA lives when no key is configured."""
        return self.data_dir / "c2pa"

    @property
    def local_publish_dir(self) -> Path:
        return self.data_dir / "bucket"


def settings_table() -> str:
    """Every ``REEL_*`` variable as a markdown table, from the fields above (docs/deploy.md
    embeds it between markers; a test keeps the two equal)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if isinstance(default, Path) and default.is_relative_to(PROJECT_ROOT):
            default = f"./{default.relative_to(PROJECT_ROOT)}"
        shown = "unset" if default in (None, "") else f"`{default}`"
        if name == "db_url":
            shown = "SQLite in the data dir"
        meaning = (info.description or "").replace("|", "\\|")
        rows.append(f"| `REEL_{name.upper()}` | {shown} | {meaning} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m reelfactory.settings > table.md
    print(settings_table(), end="")
