"""The pages and their files as the service serves them (no browser needed)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import shutil
import subprocess
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from web_extras.pages import STATIC, TEMPLATES, register_pages

ROOT = Path(__file__).resolve().parents[2]


def test_pages_and_their_files_are_served() -> None:
    # On a thread of its own: in this package Playwright's sync API may hold
    # an event loop on the main thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, _check_served()).result(timeout=60)


async def _check_served() -> None:
    app = web.Application()
    app.router.add_static("/static/", STATIC)
    register_pages(app)
    async with TestClient(TestServer(app)) as client:
        await _check_client(client)


async def _check_client(client: TestClient[web.Request, web.Application]) -> None:
    for path, title in (("/", "BeerPi · now"), ("/trend", "BeerPi · trend")):
        response = await client.get(path)
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert f"<title>{title}</title>" in await response.text()
    # Every file a template names is there, and JavaScript goes out as JavaScript
    # (browsers refuse ES modules of another type).
    for template in TEMPLATES.glob("*.html"):
        html = template.read_text()
        # The trend page's bundle adds the socket.io client itself (js/vendor.js).
        loader = (STATIC / "js" / "vendor.js").read_text() if "bundle/trend" in html else ""
        assert "static/vendor/socket.io.min.js" in html + loader
        assert "static/css/beerpi.css" in html
        for name in [part.split('"')[0] for part in re.split(r'(?:src|href)="static/', html)[1:]]:
            response = await client.get(f"/static/{name}")
            assert response.status == 200, name
            if name.endswith(".js"):
                assert response.content_type in ("application/javascript", "text/javascript")


def test_no_page_loads_anything_from_another_host() -> None:
    # A brewery Pi is often offline: no CDN, every library is vendored.
    for path in [*TEMPLATES.glob("*.html"), *(STATIC / "js").glob("*.js")]:
        text = path.read_text()
        assert "https://" not in text, path
        assert "http://" not in text, path


def test_vendored_libraries_match_the_pinned_versions() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]
    readme = (STATIC / "vendor" / "README.md").read_text()
    for package, version in pinned.items():
        assert version[0].isdigit(), f"{package} must be pinned to an exact version"
        assert f"{package} {version}" in readme
        assert (STATIC / "vendor" / f"{package}.LICENSE.txt").exists()
    d3 = (STATIC / "vendor" / "d3.trend.min.js").read_text()[:300]
    assert f"v{pinned['d3']}" in d3
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for package, version in pinned.items():
        assert lock["packages"][f"node_modules/{package}"]["version"] == version


def test_the_d3_bundle_has_every_function_the_pages_call() -> None:
    """The trend page's D3 is a bundle of named exports: a new call must be added to it."""
    from scripts.vendor_js import D3_BUNDLE, D3_EXPORTS

    bundled = {name for names in D3_EXPORTS.values() for name in names}
    called = set()
    for path in (STATIC / "js").glob("*.js"):
        code = re.sub(r'"static/vendor/[^"]*"', '""', path.read_text())  # file names
        called |= set(re.findall(r"\bd3\.([A-Za-z]+)\b", code))
    assert called, "the pages call D3"
    assert called <= bundled, f"add to D3_EXPORTS and run npm run vendor: {called - bundled}"
    header = (STATIC / "vendor" / D3_BUNDLE).read_text().split("\n", 1)[0]
    assert all(name in header for name in bundled), "vendor/ is older than D3_EXPORTS"
    for template in TEMPLATES.glob("*.html"):
        scripts = re.findall(r'src="static/vendor/(d3[^"]*)"', template.read_text())
        assert scripts in ([], [D3_BUNDLE]), template


def test_the_trend_page_bundle_is_built_from_the_current_modules() -> None:
    """static/bundle/trend.min.js is what scripts/vendor_js.py makes of static/js/trend.js.

    Its first line names a hash of the modules it was built from; a change to any
    of them without `npm run vendor` (or `python3 scripts/vendor_js.py --pages`) fails
    here. With node and esbuild installed, the bundle is also rebuilt and compared.
    """
    from scripts import vendor_js

    bundle = STATIC / "bundle" / vendor_js.PAGE_BUNDLES["trend.js"]
    text = bundle.read_text()
    assert text.startswith(vendor_js.bundle_header("trend.js")), (
        "static/bundle/ is older than static/js/: run python3 scripts/vendor_js.py --pages"
    )
    names = {path.name for path in vendor_js.page_sources("trend.js")}
    assert {"trend.js", "trend_chart.js", "trend_data.js", "api.js", "vendor.js"} <= names
    trend = (TEMPLATES / "trend.html").read_text()
    assert 'src="static/bundle/trend.min.js"' in trend
    assert 'src="static/js/' not in trend
    assert "modulepreload" not in trend
    if shutil.which("node") and (ROOT / "node_modules" / "esbuild").is_dir():
        built = subprocess.run(
            ["node", "-e", vendor_js._ESBUILD_PAGE, str(STATIC / "js" / "trend.js")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert text == vendor_js.bundle_header("trend.js") + built
