"""pyhanko's `Signer` over a `KeySigner`: the CMS is assembled here, the raw signature is made
where the key lives (the software store's memory today, an HSM token tomorrow).

The signature mechanism is pyhanko's default for the certificate's key (``sha256_ecdsa``,
``sha384_ecdsa``, ``sha256_rsa`` = PKCS#1 v1.5), the same OIDs the in-memory `SimpleSigner`
wrote before, so validators see no difference.

A PAdES signature's CMS is assembled from DER pyhanko produced for this signer's first seal
(`cms_template`): the certificates, signer identifier and signing-certificate attribute are
not encoded again for every seal. Any other CMS (a dry run, CAdES extras, another attribute
provider, non-PAdES) goes through pyhanko's own assembly.
"""

from __future__ import annotations

from typing import Any

from pyhanko.sign import signers

from pki.keys import KeyAlgorithm, KeySigner
from seals.signing.cms_template import CmsTemplate, loaded

# Longest signature per key algorithm, for pyhanko's size estimate (a dry run reserves room
# without asking the key to sign): DER ECDSA P-256 <= 72 bytes, P-384 <= 104, RSA-3072 = 384.
_MAX_SIGNATURE_BYTES = {
    KeyAlgorithm.EC_P256: 72,
    KeyAlgorithm.EC_P384: 104,
    KeyAlgorithm.RSA_3072: 384,
}


class PyhankoKeySigner(signers.Signer):
    """A pyhanko `Signer` whose raw signatures come from a `KeySigner`."""

    def __init__(self, key: KeySigner, *, signing_cert: Any, cert_registry: Any) -> None:
        super().__init__(signing_cert=signing_cert, cert_registry=cert_registry)
        self._key = key
        self._templates: dict[str, CmsTemplate | None] = {}

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        """The raw signature over `data` (the key signer hashes with `digest_algorithm`)."""
        if dry_run:
            size = _MAX_SIGNATURE_BYTES.get(self._key.algorithm)
            if size is not None:
                return bytes(size)
        return self._key.sign(data, digest_algorithm)

    def _plain_pades(
        self, dry_run: Any, use_pades: Any, settings: Any, pdf: Any, encap: Any
    ) -> bool:
        """Whether this signature is the plain PAdES CMS a template assembles."""
        return bool(
            use_pades
            and not dry_run
            and pdf
            and encap is None
            and (settings is None or settings.cades_signed_attrs is None)
            and self.signed_attr_prov_spec is None
            and self.unsigned_attr_prov_spec is None
            and not self.attribute_certs
        )

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run: Any = False,
        use_pades: Any = False,
        timestamper: Any = None,
        signed_attr_settings: Any = None,
        is_pdf_sig: Any = True,
        encap_content_info: Any = None,
    ) -> Any:
        """pyhanko's `Signer.async_sign`, from this signer's template when there is one."""
        algorithm = digest_algorithm.lower()
        template = None
        if self._plain_pades(
            dry_run, use_pades, signed_attr_settings, is_pdf_sig, encap_content_info
        ):
            if algorithm not in self._templates:
                self._check_digest_algorithm(algorithm)
                self._templates[algorithm] = await CmsTemplate.build(
                    self, algorithm, signed_attr_settings
                )
            template = self._templates[algorithm]
        if template is None:
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        from asn1crypto import cms

        signed = template.signed_attrs(data_digest)
        signature = await self.async_sign_raw(signed, algorithm)
        unsigned = await self.unsigned_attrs(
            algorithm,
            signature,
            signed_attrs=cms.CMSAttributes.load(signed),
            timestamper=timestamper,
        )
        return loaded(
            template.content_info(signed, signature, None if unsigned is None else unsigned.dump())
        )
