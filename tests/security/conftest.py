from tests.console.conftest import signed_in  # noqa: F401  (the console fixtures, reused)
