"""Verification for the service: the report of a PDF (with our CA's revocation answers and the
registry's seals), its page thumbnails and its PDF/JSON downloads."""
