"""Service settings: one pydantic-settings object (``ESEAL_`` prefix), built in ``create_app``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024
DOCUMENTATION_POLICY_OID = "1.3.6.1.4.1.32473.1"  # RFC 5612: for examples, not production


class InsecureSettingsError(ValueError):
    """Production mode was asked for with development secrets or insecure options."""


class Settings(BaseSettings):
    """Everything the service can be told, from the environment or explicitly."""

    model_config = SettingsConfigDict(
        env_prefix="ESEAL_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data folder"
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="base of the CRL, OCSP and CA-issuer URLs written into certificates; plain "
        "http as RFC 5280 expects for them (the console itself belongs behind https)",
    )
    master_key: SecretStr | None = Field(
        default=None, description="base64 of 32 bytes; default: the 0600 file data_dir/master.key"
    )
    master_key_file: Path | None = None
    ca_algorithm: Literal["ec", "rsa"] = "ec"
    ca_organization_name: str = "eseal"
    policy_oid: str = Field(
        default=DOCUMENTATION_POLICY_OID,
        pattern=r"^[0-2](\.\d{1,9})+$",
        description="certificate policy OID (under your IANA enterprise number); the TSA "
        "policy is this OID + '.2'",
    )
    max_body_bytes: int = 20 * MiB
    session_hours: int = 8
    cookie_secure: bool = True
    login_max_failures: int = 5
    login_lockout_minutes: int = 15
    log_level: str = "INFO"
    seal_font: Path | None = None
    document_font: Path | None = Field(
        default=None,
        description="CJK font for generated documents; default: a regular Noto CJK face",
    )
    jobs_worker: bool = Field(
        default=True,
        description="run bulk jobs in a worker thread of this process (the embedded default)",
    )
    verify_rate_per_minute: int = Field(
        default=30, ge=0, description="per client address; 0 switches the limit off"
    )
    verify_max_seconds: float = 30.0
    verify_network_fetching: bool = Field(
        default=False,
        description="let verification fetch OCSP/CRLs/issuers of OTHER CAs over the network "
        "(our own certificates are always answered in process)",
    )
    verify_network_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    seal_code_region: str | None = Field(
        default=None,
        pattern=r"^[0-9]{6}$",
        description="the 6-digit division code every new seal code starts with (a registry "
        "serving one region); default: the owner's credit code positions 3-8",
    )
    audit_checkpoint_minutes: int = Field(
        default=60,
        ge=0,
        description="time-stamp the audit chain's head this often (0: only on demand)",
    )

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.environment != "production":
            return self
        problems = []
        if self.master_key is None and self.master_key_file is None:
            problems.append(
                "no master key configured (set ESEAL_MASTER_KEY or ESEAL_MASTER_KEY_FILE); "
                "the auto-created development key file is not allowed in production"
            )
        if self.policy_oid == DOCUMENTATION_POLICY_OID:
            problems.append("ESEAL_POLICY_OID must be your own policy OID, not the example one")
        if not self.cookie_secure:
            problems.append("ESEAL_COOKIE_SECURE must stay true in production")
        if problems:
            raise InsecureSettingsError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'eseal.db').resolve()}"

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
