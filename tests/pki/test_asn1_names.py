"""A CMS attribute name registered after asn1crypto built its reverse map still resolves: the
seal worker signing sm2-cms at B-LT failed with "invalid literal for int()" on
adobe_revocation_info_archival when a lookup by name ran before asn1crypto.pdf was imported."""

from __future__ import annotations

import subprocess
import sys

LATE_REGISTRATION = """
from asn1crypto import cms
cms.CMSAttributeType("content_type")  # the first lookup by name builds the reverse map
import pki  # noqa: F401
from asn1crypto import pdf  # noqa: F401  registers adobe_revocation_info_archival
print(cms.CMSAttributeType("adobe_revocation_info_archival").dotted)
"""


def test_a_name_registered_after_the_first_lookup_still_resolves() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LATE_REGISTRATION], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "1.2.840.113583.1.1.8"
