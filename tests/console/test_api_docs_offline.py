"""The interactive API docs work on an intranet: /docs (Swagger UI) and /redoc render in
headless Chromium while every request to another host is refused."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest


def _offline_page(chromium: Any, live_server: str) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    ours = urlsplit(live_server).netloc
    elsewhere: list[str] = []

    def route(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).netloc == ours or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_render_without_internet(
    chromium: Any, live_server: str, artifacts: Any, path: str
) -> None:
    context, page, errors = _offline_page(chromium, live_server)
    try:
        page.goto(path)
        if path == "/docs":
            page.wait_for_selector(".swagger-ui .info .title")
            assert "eseal" in page.locator(".swagger-ui .info .title").inner_text()
            # the operations are listed and one opens (the OpenAPI 3.1 document is understood)
            page.wait_for_selector("#operations-verify-verify_api_v1_verify_post, .opblock")
            assert page.locator(".opblock").count() > 20
        else:
            page.wait_for_selector("[role=search], .api-content")
            page.get_by_text("Register an enterprise in one call").first.wait_for()
        page.screenshot(path=str(artifacts / f"api-docs{path.replace('/', '-')}.png"))
        assert not errors, errors
    finally:
        context.close()
