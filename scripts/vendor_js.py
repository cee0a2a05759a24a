"""Copy the pinned front-end libraries from node_modules into web_extras/static/vendor/.

D3 is the exception: the trend page uses a few of its modules, so instead of
the whole library (281 kB, parsed on every cold open of the page) the script
bundles just those exports (`D3_EXPORTS`) with esbuild into `d3.trend.min.js`
(about 105 kB), which defines the same global `d3`.

BeerPi's pages are served by the web service itself, often on a Pi with no
internet, so the minified builds of D3, jQuery and the socket.io client are
committed. To update one: change its exact version in package.json, then

    npm install && npm run vendor      # or: python3 scripts/vendor_js.py

and commit package.json, package-lock.json and web_extras/static/vendor/.
The script checks that each installed package is the version pinned in
package.json and writes vendor/README.md (versions, licences) to match.

It also bundles the trend page's own ES modules (``static/js/trend.js`` and what
it imports) into one file, ``static/bundle/trend.min.js``, which the page loads
instead of the modules: one request instead of a waterfall of eight (a browser
asks a host at most six things at once over HTTP/1.1, and a module's imports
are only known once it has arrived). The sources stay where they are and are
still served (the browser tests import them one by one). Run the script after
changing any of them (``--pages`` rebuilds only that bundle); the bundle's first
line carries a hash of its sources, which tests/browser/test_served.py checks.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "node_modules"
STATIC = ROOT / "web_extras" / "static"
VENDOR = STATIC / "vendor"
# Page bundles: entry module under static/js/ -> bundle under static/bundle/.
PAGE_BUNDLES = {"trend.js": "trend.min.js"}
BUNDLES = STATIC / "bundle"
# A static import's module path: `import ... from "./x.js"`, `export ... from`, `import "./x.js"`.
_IMPORT = re.compile(
    r'^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\./[\w.-]+\.js)"|^\s*import\s+"(\./[\w.-]+\.js)"',
    re.M,
)

# What the pages call as `d3.<name>`, by D3 module (tests/browser/test_served.py checks
# that every call in web_extras/static/js is listed here).
D3_EXPORTS: dict[str, tuple[str, ...]] = {
    "d3-array": ("bisector", "extent"),
    "d3-axis": ("axisBottom", "axisLeft"),
    "d3-brush": ("brushX",),
    "d3-path": ("path",),
    "d3-scale": ("scaleLinear", "scaleTime"),
    "d3-selection": ("namespaces", "pointer", "select"),
    "d3-shape": ("area", "line", "symbol"),
    "d3-time-format": ("timeFormat",),
}
D3_BUNDLE = "d3.trend.min.js"
# esbuild's JavaScript API finds its binary without the package's install script.
_ESBUILD_PAGE = """
const esbuild = require("esbuild");
const built = esbuild.buildSync({
  entryPoints: [process.argv[1]], bundle: true, minify: true, format: "esm",
  legalComments: "none", write: false, target: "es2020",
});
process.stdout.write(built.outputFiles[0].text);
"""
_ESBUILD = """
const esbuild = require("esbuild");
let entry = "";
process.stdin.on("data", (chunk) => { entry += chunk; });
process.stdin.on("end", () => {
  const built = esbuild.buildSync({
    stdin: { contents: entry, resolveDir: process.cwd() },
    bundle: true, minify: true, format: "iife", globalName: "d3",
    legalComments: "none", write: false, target: "es2020",
  });
  process.stdout.write(built.outputFiles[0].text);
});
"""

# package -> (file in the package, name served under /static/vendor/, licence file, note)
LIBRARIES: dict[str, tuple[str, str, str, str]] = {
    "d3": (
        "",
        D3_BUNDLE,
        "LICENSE",
        "Built here: only the D3 modules' exports the trend page uses (`D3_EXPORTS`"
        " in scripts/vendor_js.py), bundled by esbuild; defines the global `d3`.",
    ),
    "jquery": (
        "dist/jquery.min.js",
        "jquery.min.js",
        "LICENSE.txt",
        "Defines the globals `jQuery` and `$`.",
    ),
    "socket.io-client": (
        "dist/socket.io.min.js",
        "socket.io.min.js",
        "LICENSE",
        "Defines the global `io`. The bundle includes engine.io-client, socket.io-parser"
        " and @socket.io/component-emitter (all MIT, same authors).",
    ),
}


def _strip_source_map(text: str) -> str:
    # The .map files are not shipped; without the comment no browser asks for them.
    lines = text.rstrip("\n").split("\n")
    while lines and lines[-1].startswith("//# sourceMappingURL="):
        lines.pop()
    return "\n".join(lines) + "\n"


def _d3_bundle(version: str) -> str:
    entry = "".join(
        f"export {{ {', '.join(names)} }} from {json.dumps(module)};\n"
        for module, names in D3_EXPORTS.items()
    )
    built = subprocess.run(
        ["node", "-e", _ESBUILD], input=entry, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    names = ", ".join(n for names in D3_EXPORTS.values() for n in names)
    return f"// D3 v{version} (https://d3js.org, ISC): {names}\n{built}"


def page_sources(entry: str) -> list[Path]:
    """The modules a page bundle is made of: ``entry`` and what it imports, in turn."""
    js = STATIC / "js"
    seen: list[Path] = []
    todo = [js / entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.append(path)
        for match in _IMPORT.finditer(path.read_text(encoding="utf-8")):
            todo.append(js / (match.group(1) or match.group(2)))
    return sorted(seen)


def sources_hash(entry: str) -> str:
    """What the bundle of ``entry`` was built from (its first line names it)."""
    digest = hashlib.sha256()
    for path in page_sources(entry):
        digest.update(f"{path.name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def bundle_header(entry: str) -> str:
    source = f"static/js/{entry} (sources {sources_hash(entry)})"
    return f"// Built by scripts/vendor_js.py from {source}; do not edit.\n"


def build_pages() -> None:
    BUNDLES.mkdir(parents=True, exist_ok=True)
    for entry, target in PAGE_BUNDLES.items():
        built = subprocess.run(
            ["node", "-e", _ESBUILD_PAGE, str(STATIC / "js" / entry)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (BUNDLES / target).write_text(bundle_header(entry) + built, encoding="utf-8")
        print(f"bundled static/js/{entry} -> static/bundle/{target}")


def main() -> int:
    build_pages()
    if sys.argv[1:] == ["--pages"]:
        return 0
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]
    VENDOR.mkdir(parents=True, exist_ok=True)
    rows = []
    for package, (source, target, licence_file, note) in LIBRARIES.items():
        meta = json.loads((MODULES / package / "package.json").read_text())
        if meta["version"] != pinned[package]:
            print(
                f"{package}: node_modules has {meta['version']}, package.json pins "
                f"{pinned[package]}; run `npm ci` first",
                file=sys.stderr,
            )
            return 1
        if package == "d3":
            text = _d3_bundle(meta["version"])
        else:
            text = _strip_source_map((MODULES / package / source).read_text(encoding="utf-8"))
        (VENDOR / target).write_text(text, encoding="utf-8")
        licence = (MODULES / package / licence_file).read_text(encoding="utf-8")
        (VENDOR / f"{package}.LICENSE.txt").write_text(licence, encoding="utf-8")
        rows.append(
            f"| `{target}` | {package} {meta['version']} | {meta['license']} "
            f"| `{package}.LICENSE.txt` | {note} |"
        )
        print(f"vendored {package} {meta['version']} -> {target}")
    readme = [
        "# Vendored front-end libraries",
        "",
        "Served by the BeerPi web service at `/static/vendor/`, so the pages work",
        "on a Pi with no internet (no CDN). Copied from npm by",
        "`scripts/vendor_js.py` (`npm ci && npm run vendor`) at the exact versions",
        "pinned in the repository's `package.json`; do not edit these files by hand.",
        "",
        "| file | package and version | licence | licence text | notes |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
        "jQuery and socket.io are the packages' own minified builds, unchanged except",
        "that the trailing `//# sourceMappingURL=` comment is removed (the maps are",
        "not shipped). D3 is a bundle of the few exports the trend page calls.",
        "",
    ]
    (VENDOR / "README.md").write_text("\n".join(readme), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
