"""Copy the pinned front-end libraries from node_modules into web_extras/static/vendor/.

BeerPi's pages are served by the web service itself, often on a Pi with no
internet, so the minified builds of D3, jQuery and the socket.io client are
committed. To update one: change its exact version in package.json, then

    npm install && npm run vendor      # or: python3 scripts/vendor_js.py

and commit package.json, package-lock.json and web_extras/static/vendor/.
The script checks that each installed package is the version pinned in
package.json and writes vendor/README.md (versions, licences) to match.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "web_extras" / "static" / "vendor"

# package -> (file in the package, name served under /static/vendor/, licence file, note)
LIBRARIES: dict[str, tuple[str, str, str, str]] = {
    "d3": ("dist/d3.min.js", "d3.min.js", "LICENSE", "UMD build; defines the global `d3`."),
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


def main() -> int:
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
        text = (MODULES / package / source).read_text(encoding="utf-8")
        (VENDOR / target).write_text(_strip_source_map(text), encoding="utf-8")
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
        "Each file is the package's own minified build, unchanged except that the",
        "trailing `//# sourceMappingURL=` comment is removed (the maps are not shipped).",
        "",
    ]
    (VENDOR / "README.md").write_text("\n".join(readme), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
