"""The public verification page (``GET /verify``): no login, plain HTML and one CSS file."""
