"""Service settings: one pydantic-settings object (``ESEAL_`` prefix), built in ``create_app``."""

from __future__ import annotations

import os
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
        description="where the service is reached (verify links, the console); the PKI URLs in "
        "certificates use ESEAL_PKI_BASE_URL, by default this base over plain http",
    )
    pki_base_url: str | None = Field(
        default=None,
        description="base of the CRL, OCSP and CA-issuer URLs in certificates; default: the "
        "public base with http (RFC 5280 4.2.1.13, EN 319 412-2 GEN-4.3.11-4 want plain http "
        "for them even when the console is served over https)",
    )
    qc_compliance: bool = Field(
        default=False,
        description="state EU qualified status (QcCompliance) in seal and personal "
        "certificates; only for a qualified trust service",
    )
    qc_sscd: bool = Field(
        default=False,
        description="state that keys are held in a qualified creation device (QcSSCD); only "
        "when a QSCD/HSM really holds them",
    )
    sm2_enabled: bool = Field(
        default=True,
        description="keep the SM2 (GB/T 32918, GM/T 0015) CA hierarchy beside the main one and "
        "issue an SM2 certificate beside the main one for every new seal",
    )
    pades_vri: bool = Field(
        default=True,
        description="write the signature's /VRI entry in the DSS at B-LT/B-LTA (deprecated in "
        "EN 319 142-1; some older validators look for it)",
    )
    master_key: SecretStr | None = Field(
        default=None, description="base64 of 32 bytes; default: the 0600 file data_dir/master.key"
    )
    master_key_file: Path | None = None
    key_store: Literal["database", "pkcs11"] = Field(
        default="database",
        description="where new private keys are made: AES-GCM rows in the database, or a "
        "PKCS#11 token (keys non-extractable; older database keys keep signing until re-keyed)",
    )
    pkcs11_module: Path | None = Field(
        default=None, description="the PKCS#11 module (.so), e.g. /usr/lib/softhsm/libsofthsm2.so"
    )
    pkcs11_token_label: str | None = Field(default=None, description="label of the token")
    pkcs11_pin: SecretStr | None = Field(default=None, description="the token's user PIN")
    pkcs11_pin_file: Path | None = Field(
        default=None, description="a file holding the user PIN (instead of ESEAL_PKCS11_PIN)"
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: rate limits and sign-in throttles shared by every "
        "instance (default: a file in each data folder, shared by one machine's workers)",
    )
    blob_store: Literal["local", "database"] = Field(
        default="local",
        description="where documents are kept: the data folder, or the database (several "
        "instances on one PostgreSQL without a shared disk)",
    )
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
    instance_name: str = Field(
        default_factory=lambda: f"{os.uname().nodename}:{os.getpid()}",
        max_length=64,
        description="this instance's name in records it works on (several instances on one "
        "database); default host:pid",
    )
    jobs_stale_seconds: int = Field(
        default=600,
        ge=1,
        description="on PostgreSQL (several instances), a bulk record claimed longer ago than "
        "this is taken back from its instance as stopped (SQLite: at start, one process)",
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
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks of reverse proxies whose X-Forwarded-For is "
        "believed (JSON list); default none: the peer address counts",
    )
    outbound_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="hosts that webhooks and verification fetching may reach even at "
        "loopback/private addresses (JSON list; tests, a lab CA); everything else must "
        "resolve to public addresses",
    )
    login_rate_per_minute: int = Field(
        default=20, ge=0, description="sign-in attempts per client address; 0 switches it off"
    )
    # -- holding load (issue 11): admission control, database waits, hostile documents --
    db_busy_timeout_seconds: float = Field(
        default=5.0, gt=0, le=30, description="longest wait for the write lock or a pool slot"
    )
    retry_after_seconds: int = Field(default=2, ge=1, description="Retry-After on 503 answers")
    admission: dict[str, tuple[int, int]] = Field(
        default_factory=lambda: {
            "sealing": (4, 32),
            "verification": (2, 16),
            "pki": (16, 256),
            "console": (4, 32),
            "api": (16, 64),
        },
        description="per class of work: (requests in flight, requests waiting); beyond that "
        "an immediate 503",
    )
    admission_wait_seconds: float = Field(
        default=5.0, gt=0, description="longest wait in an admission queue before a 503"
    )
    min_free_bytes: int = Field(
        default=256 * MiB, ge=0, description="/readyz answers 503 below this free disk space"
    )
    pdf_workers: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        description="PDF worker processes (parsing, verification, page rendering)",
    )
    pdf_workers_prestart: bool = Field(
        default=True, description="start the PDF and seal workers with the service"
    )
    seal_workers: int = Field(
        default_factory=lambda: max(1, os.cpu_count() or 1),
        ge=1,
        description="signing worker processes (the key is unlocked inside them)",
    )
    pdf_worker_memory_bytes: int = Field(default=1024 * MiB, ge=256 * MiB)
    pdf_worker_cpu_seconds: int = Field(default=30, ge=1)
    pdf_worker_wall_seconds: float = Field(default=40.0, gt=0)
    pdf_max_objects_per_revision: int = Field(default=100_000, ge=1)
    pdf_max_decompressed_bytes: int = Field(default=256 * MiB, ge=1)
    pdf_max_pages: int = Field(default=2_000, ge=1)
    pdf_max_page_side_pt: float = Field(default=5_080.0, gt=0)
    ocsp_pre_produced_seconds: int = Field(
        default=600,
        ge=0,
        description="hand out a signed OCSP answer to nonce-less requests for this long before "
        "signing it anew (RFC 5019 pre-produced responses); any revocation retires them at "
        "once; 0 signs every answer",
    )
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
        if not self.resolved_pki_base_url.startswith("http://"):
            problems.append(
                "ESEAL_PKI_BASE_URL must be plain http:// (CRL and AIA URLs over https are "
                "refused by RFC 5280 clients and ETSI GEN-4.3.11-4)"
            )
        if problems:
            raise InsecureSettingsError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'eseal.db').resolve()}"

    @property
    def resolved_pki_base_url(self) -> str:
        """The PKI base: ESEAL_PKI_BASE_URL, else the public base with its scheme made http."""
        if self.pki_base_url:
            return self.pki_base_url
        scheme, sep, rest = self.public_base_url.partition("://")
        return f"http://{rest}" if sep and scheme.lower() == "https" else self.public_base_url

    @property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / "master.key"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")
