"""A self-signed certificate for 127.0.0.1, made with Debian's openssl."""

from __future__ import annotations

import subprocess
from pathlib import Path


def make_cert(directory: Path, ip: str = "127.0.0.1") -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=beerpi-test",
            "-addext", f"subjectAltName=IP:{ip}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return cert, key
