"""What many tests build the same way: documents (documents.py), test PKIs (pki.py) and
two-party envelopes (envelopes.py)."""
