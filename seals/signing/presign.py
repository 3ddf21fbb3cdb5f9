"""B-LT's pre-signing validation, kept with the validation context it ran in (issue 12).

Before a B-LT seal pyhanko validates the signer's path and the TSA's path with the seal's
`ValidationMaterial` (OCSP and CRL signatures checked, paths built): a fifth of the seal's CPU,
with the same answer for every seal of the same signer, TSA and material. The context
validates at the moment it was made (`ValidationMaterial.kept_context`, renewed within
`KEPT_CONTEXT_SECONDS`), so a validation done in it gives the same answer on the next seal;
it is kept in that context's dictionary and dropped with it, and never used past the first
`notAfter` of a certificate on the paths or the `nextUpdate` of the revocation data it holds.

Not kept: B-LTA (its validation also looks at the document's earlier time-stamps), a signer
or TSA this module cannot name, anything that failed (validated again, fails again).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def _signer_key(pdf_signer: Any, timestamper: Any) -> tuple[Any, ...] | None:
    signer = pdf_signer.signer
    cert = signer.signing_cert
    stamper = "" if timestamper is None else getattr(timestamper, "reservation_key", None)
    if cert is None or stamper is None:
        return None
    chain = tuple(sorted(c.sha256 for c in (signer.cert_registry or ())))
    usage = frozenset(pdf_signer.signature_meta.signer_key_usage or ())
    return (cert.sha256, chain, stamper, usage)


def _good_until(status: Any) -> datetime:
    """The first moment the kept validation might no longer hold."""
    ends = [
        cert.not_valid_after
        for path in status.validation_paths
        for cert in path.iter_certs(include_root=True)
    ]
    for response in status.ocsps_to_embed:
        for single in response.basic_ocsp_response["tbs_response_data"]["responses"]:
            ends.append(single["next_update"].native)
    ends += [crl["tbs_cert_list"]["next_update"].native for crl in status.crls_to_embed]
    return min((end for end in ends if end is not None), default=datetime.max.replace(tzinfo=UTC))


async def presign_validation(
    session: Any, writer: Any, *, kept: dict[Any, Any] | None, lta: bool
) -> Any:
    """`session.perform_presign_validation(writer)`, or its kept result (see the module)."""
    key = None
    if kept is not None and not lta:
        key = _signer_key(session.pdf_signer, session.timestamper)
    if key is not None:
        hit = kept.get(key) if kept is not None else None
        if hit is not None and datetime.now(UTC) < hit[1]:
            return hit[0]
    status = await session.perform_presign_validation(writer)
    if key is not None and kept is not None and status is not None:
        kept[key] = (status, _good_until(status))
    return status
