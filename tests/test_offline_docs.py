"""/docs and /redoc work offline: every asset they reference is served by policyqa itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from api.http import create_app
from api.serve import running_server
from index.embedder import EmbedderSpec
from qa.engine import Engine


class _Assets(HTMLParser):
    """Every URL a page makes the browser load: script src, link href, img src, ReDoc's spec-url."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for attr in {"script": ("src",), "link": ("href",), "img": ("src",), "redoc": ("spec-url",)}.get(tag, ()):
            if a.get(attr):
                self.urls.append(a[attr])
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    engine = Engine(tmp_path_factory.mktemp("docs-data"), EmbedderSpec("hash", "64"))
    with running_server(create_app(engine, mcp=False, warm_model=False)) as url:
        yield url


@pytest.mark.parametrize(("page", "needs"), [("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")),
                                             ("/redoc", ("redoc.standalone.js", "/openapi.json"))])
def test_every_asset_of_the_docs_pages_is_served_here(base_url, page, needs):
    html = httpx.get(base_url + page, timeout=30)
    assert html.status_code == 200
    parser = _Assets()
    parser.feed(html.text)
    # URLs inside inline scripts: Swagger UI's spec url, and any absolute URL a script might fetch
    inline = "\n".join(parser.scripts)
    urls = parser.urls + re.findall(r"""url:\s*['"]([^'"]+)['"]""", inline)
    assert not re.findall(r"https?://[^\s'\"]+", inline), "an inline script points off the server"
    assert all(any(n in u for u in urls) for n in needs), urls
    origin = urlsplit(base_url).netloc
    for u in urls:
        full = urljoin(base_url + page, u)
        assert urlsplit(full).netloc == origin, f"{page} loads {u} from elsewhere"
        got = httpx.get(full, timeout=30)
        assert got.status_code == 200 and got.content, f"{page}: {u} -> {got.status_code}"


def test_the_swagger_page_calls_no_public_validator(base_url):
    assert '"validatorUrl": null' in httpx.get(base_url + "/docs", timeout=30).text
