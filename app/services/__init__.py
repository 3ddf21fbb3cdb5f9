"""The service layer: what the service does (seals, grants, envelopes, documents, tenancy, ...),
each act authorised, audited and done in the caller's transaction. HTTP, the console and the CLI
call these modules; they never call back (tests/test_layering.py)."""
