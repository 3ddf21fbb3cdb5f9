"""What many tests build the same way: documents (documents.py) and test PKIs (pki.py)."""
