"""An in-process pyhanko `TimeStamper` backed by our own RFC 3161 TSA (no HTTP to ourselves)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from asn1crypto import tsp
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from pki.tsa import TimeStampResp, TsaConfig, new_serial, respond

__all__ = ["InProcessTimeStamper"]


class InProcessTimeStamper(TimeStamper):
    """pyhanko asks for a token; we answer with `pki.tsa.respond` directly.

    `clock` gives genTime (timezone-aware), `serials` the token serial numbers. A rejection
    raises pyhanko's `TimestampRequestError`, as it would from a remote TSA.
    """

    def __init__(
        self,
        *,
        config: TsaConfig,
        clock: Callable[[], datetime],
        serials: Callable[[], int] = new_serial,
        include_nonce: bool = True,
    ) -> None:
        super().__init__(include_nonce=include_nonce)
        self._config = config
        self._clock = clock
        self._serials = serials

    def request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """Answer a TimeStampReq synchronously."""
        der = respond(req.dump(), config=self._config, now=self._clock(), serial=self._serials())
        status = TimeStampResp.load(der)["status"]
        if status["status"].native != "granted":
            # asn1crypto's tsp.TimeStampResp cannot even load a response without a token
            raise TimestampRequestError(
                "Timestamp server refused our request: statusString "
                f'"{"; ".join(status["status_string"].native or [])}", '
                f'failInfo "{"; ".join(sorted(status["fail_info"].native or []))}"'
            )
        return tsp.TimeStampResp.load(der)

    @property
    def reservation_key(self) -> str:
        """Names what decides this TSA's token size (its certificates), so a signer may reuse
        the room it reserved for a token from the same TSA instead of a dry run."""
        return hashlib.sha256(b"".join(self._config._encoded.certificates)).hexdigest()

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return self.request_tsa_response(req)
