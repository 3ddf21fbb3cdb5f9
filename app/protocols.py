"""Wire-format PKI endpoints: CA certificates, CRLs, OCSP (RFC 6960), time-stamps (RFC 3161)."""

from __future__ import annotations

from typing import Annotated

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from app.access import public
from app.db import reading, unit_of_work
from app.deps import ServicesDep, SessionDep
from app.errors import NotFound
from app.wiring import Services
from pki import ocsp
from pki.errors import OcspRequestError
from pki.publication import UnknownCaError

router = APIRouter(
    prefix="/pki", tags=["pki protocols"], dependencies=public("CA certificates, CRL, OCSP, TSA")
)

CaPath = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,32}$")]


@router.get("/ca/{ca}.crt", response_class=Response)
def ca_certificate(ca: CaPath, session: SessionDep, services: ServicesDep) -> Response:
    try:
        certificate = services.publisher.ca_certificate(session, ca)
    except UnknownCaError as exc:
        raise NotFound(exc.detail) from exc
    return Response(
        certificate.public_bytes(Encoding.DER),
        media_type="application/pkix-cert",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/crl/{ca}.crl", response_class=Response)
def crl(ca: CaPath, services: ServicesDep) -> Response:
    try:
        der = fresh_crl(services, ca)
    except UnknownCaError as exc:
        raise NotFound(exc.detail) from exc
    return Response(der, media_type="application/pkix-crl", headers={"Cache-Control": "no-cache"})


def _ocsp(der: bytes) -> Response:
    return Response(der, media_type="application/ocsp-response")


@router.post("/ocsp", response_class=Response)
async def ocsp_post(request: Request, services: ServicesDep) -> Response:
    body = await request.body()
    return _ocsp(await _respond(services, body))


@router.get("/ocsp/{encoded:path}", response_class=Response)
async def ocsp_get(encoded: str, services: ServicesDep) -> Response:
    try:
        body = ocsp.decode_get_request(encoded)
    except OcspRequestError:  # undecodable path: the protocol's own answer, not an HTTP error
        return _ocsp(ocsp.error_response(ocsp.OcspResponseStatus.MALFORMED_REQUEST))
    return _ocsp(await _respond(services, body))


def fresh_crl(services: Services, ca: str) -> bytes:
    """The stored CRL from a read transaction; only when it nears nextUpdate a short write
    issues the next one (so CRL downloads never queue behind sealing for the write lock)."""
    with unit_of_work(reading(services.engine)) as session:
        der = services.publisher.stored_crl(session, ca)
    if der is not None:
        return der
    with unit_of_work(services.engine) as session:
        return services.publisher.current_crl(session, ca)


async def _respond(services: Services, body: bytes) -> bytes:
    """OCSP answers from reads only: statuses and the cached responder key, no write lock."""

    def work() -> bytes:
        with unit_of_work(reading(services.engine)) as session:
            return services.publisher.ocsp_response(session, body)

    return await run_in_threadpool(work)


@router.post("/tsa", response_class=Response)
async def tsa(request: Request, services: ServicesDep) -> Response:
    return await _timestamp(services, await request.body(), sm2=False)


@router.post("/tsa/sm2", response_class=Response)
async def tsa_sm2(request: Request, services: ServicesDep) -> Response:
    """The SM2 TSA: RFC 3161 tokens signed SM2-with-SM3 (SM3 digests) by the sm2-tsa identity."""
    if not services.settings.sm2_enabled:
        raise NotFound("the SM2 time-stamping authority is not enabled")
    return await _timestamp(services, await request.body(), sm2=True)


async def _timestamp(services: Services, body: bytes, *, sm2: bool) -> Response:
    def work() -> bytes:
        # random 159-bit serials, nothing recorded: a time-stamp needs no write lock at all
        with unit_of_work(reading(services.engine)) as session:
            return services.publisher.timestamp_response(session, body, sm2=sm2)

    return Response(await run_in_threadpool(work), media_type="application/timestamp-reply")
