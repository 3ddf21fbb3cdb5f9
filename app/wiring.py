"""Builds the service's long-lived parts from settings: engine, key store, authority."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from cryptography import x509
from sqlalchemy import Engine

from app.blobs import BlobStore, DatabaseBlobStore, LocalBlobStore
from app.db import make_engine
from app.filesafety import prepare_data_folder
from app.pdfpool import PdfWorkerPool, limits_from
from app.ratelimit import RateLimiter
from app.ratelimit_shared import Limiter, SharedRateLimiter
from app.settings import Settings
from app.startup import StartupError
from pki.authority import Authority
from pki.errors import KeyStoreError
from pki.hierarchy import HierarchyConfig
from pki.keys import KeyStore, SoftwareKeyStore, load_or_create_master_key, master_key_from_env
from pki.profiles import ProfileSet
from pki.publication import PublicationPolicy, Publisher
from pki.status_epoch import FileStatusEpoch


@dataclass
class Services:
    """Everything a request handler needs besides its session."""

    settings: Settings
    engine: Engine
    keystore: KeyStore
    authority: Authority
    publisher: Publisher
    hierarchy: HierarchyConfig
    verify_limiter: RateLimiter | Limiter
    blobs: BlobStore
    pdf_pool: PdfWorkerPool
    seal_pool: PdfWorkerPool
    login_limiter: Limiter | None = None


def master_key(settings: Settings) -> bytes:
    """From ESEAL_MASTER_KEY (base64), else the 0600 key file (created in development)."""
    if settings.master_key is not None:
        return master_key_from_env(settings.master_key.get_secret_value())
    return load_or_create_master_key(settings.resolved_master_key_file)


def build_keystore(settings: Settings) -> KeyStore:
    """The database store, or the token with the database store behind it for older keys."""
    software = SoftwareKeyStore(master_key(settings))
    if settings.key_store == "database":
        return software
    if settings.pkcs11_module is None or not settings.pkcs11_token_label:
        raise KeyStoreError(
            "ESEAL_KEY_STORE=pkcs11 needs ESEAL_PKCS11_MODULE and ESEAL_PKCS11_TOKEN_LABEL"
        )
    from pki.pkcs11_store import Pkcs11Config, Pkcs11KeyStore, read_pin  # python-pkcs11: HSM only

    secret = settings.pkcs11_pin.get_secret_value() if settings.pkcs11_pin else None
    config = Pkcs11Config(
        module=settings.pkcs11_module,
        token_label=settings.pkcs11_token_label,
        pin=read_pin(pin=secret, pin_file=settings.pkcs11_pin_file),
    )
    return Pkcs11KeyStore(config, fallback=software)


def build_blob_store(settings: Settings, engine: Engine) -> BlobStore:
    """The local folder (default) or the service database's `blob` table."""
    if settings.blob_store == "database":
        if engine.dialect.name == "sqlite":
            raise StartupError(
                "ESEAL_BLOB_STORE=database is for PostgreSQL (several instances); "
                "on SQLite keep the local folder"
            )
        return DatabaseBlobStore(engine)
    return LocalBlobStore(settings.data_dir / "documents")


def hierarchy_config(settings: Settings) -> HierarchyConfig:
    return HierarchyConfig(
        algorithm_family=settings.ca_algorithm,
        organization_name=settings.ca_organization_name,
    )


def rate_limit_file(settings: Settings) -> Path:
    """The side database of rate limits and sign-in throttles, shared by every worker."""
    return settings.data_dir / "ratelimits.db"


def limiter(settings: Settings, *, bucket: str, limit: int) -> Limiter:
    """A per-minute limiter shared by this machine's workers (a file in the data folder), or
    by every instance (Redis, with ESEAL_REDIS_URL)."""
    if settings.redis_url:
        from app.ratelimit_redis import RedisRateLimiter

        return RedisRateLimiter(settings.redis_url, bucket=bucket, limit=limit)
    return SharedRateLimiter(rate_limit_file(settings), bucket=bucket, limit=limit)


logger = logging.getLogger(__name__)


def build_services(settings: Settings) -> Services:
    prepare_data_folder(settings)  # 0700 folder, 0600 database files (issue 10)
    if not settings.resolved_pki_base_url.startswith("http://"):
        # production refuses this (settings); elsewhere it is allowed, but never silently
        logger.warning(
            "ESEAL_PKI_BASE_URL %s is not plain http://: certificates issued now carry CRL and "
            "AIA URLs that RFC 5280 clients refuse (ETSI EN 319 412-2 GEN-4.3.11-4 error)",
            settings.resolved_pki_base_url,
        )
    keystore = build_keystore(settings)
    engine = make_engine(
        settings.resolved_database_url, busy_timeout=settings.db_busy_timeout_seconds
    )
    policy = x509.ObjectIdentifier(settings.policy_oid)
    authority = Authority(
        keystore=keystore,
        base_url=settings.resolved_pki_base_url,
        profiles=ProfileSet()
        .with_policy(policy)
        .with_qualified(compliance=settings.qc_compliance, sscd=settings.qc_sscd),
    )
    return Services(
        settings=settings,
        engine=engine,
        keystore=keystore,
        authority=authority,
        publisher=Publisher(
            authority=authority,
            policy=PublicationPolicy(
                tsa_policy_oid=f"{settings.policy_oid}.2",
                ocsp_pre_produced_max_age=timedelta(seconds=settings.ocsp_pre_produced_seconds),
            ),
            # every worker and `eseal` command of this data folder sees a revocation at once
            status_epoch=FileStatusEpoch(settings.data_dir / "status-epoch"),
        ),
        hierarchy=hierarchy_config(settings),
        # shared by every worker of this installation (issue 10), off the main database
        verify_limiter=limiter(settings, bucket="verify", limit=settings.verify_rate_per_minute),
        blobs=build_blob_store(settings, engine),
        login_limiter=limiter(
            settings, bucket="login-address", limit=settings.login_rate_per_minute
        ),
        pdf_pool=PdfWorkerPool(settings, limits_from(settings), size=settings.pdf_workers),
        seal_pool=PdfWorkerPool(settings, limits_from(settings), size=settings.seal_workers),
    )


_Made = TypeVar("_Made")


def per_services(make: Callable[[Services], _Made]) -> Callable[[Services], _Made]:
    """`make(services)` once per `Services` of this process (a worker builds its services once,
    tests build several): the lookup the seal-worker and verification caches share."""
    made: dict[int, tuple[Services, _Made]] = {}

    def get(services: Services) -> _Made:
        held = made.get(id(services))
        if held is None or held[0] is not services:
            held = made[id(services)] = (services, make(services))
        return held[1]

    return get
