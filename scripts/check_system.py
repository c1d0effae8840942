"""Say which system packages `make demo` and `make test` need and which are missing.

Run by the Makefile with the system Python before anything is installed, so it uses the
standard library only. Exit 1 when something required is missing (with the Debian
package that provides it); optional parts are reported and never fail.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from ctypes.util import find_library

REQUIRED_PYTHON = (3, 11)


def _has_fonts() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def _has_venv() -> bool:
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> int:
    """Print what is missing; 1 if a required package is, else 0."""
    required = [
        (
            f"Python >= {REQUIRED_PYTHON[0]}.{REQUIRED_PYTHON[1]}",
            "python3",
            sys.version_info >= REQUIRED_PYTHON,
        ),
        ("Python venv and pip", "python3-venv", _has_venv()),
        (
            "Pango (PDF certificates, WeasyPrint)",
            "libpango-1.0-0 libpangoft2-1.0-0",
            find_library("pango-1.0") is not None and find_library("pangoft2-1.0") is not None,
        ),
        ("a font and fontconfig (PDF certificates)", "fonts-dejavu-core fontconfig", _has_fonts()),
    ]
    optional = [
        (
            "HarfBuzz-Subset (smaller PDFs; WeasyPrint falls back to fontTools)",
            "libharfbuzz-subset0",
            find_library("harfbuzz-subset") is not None,
        ),
        (
            "PostgreSQL server (tests run on it when VEIN2VEIN_TEST_POSTGRES_URL is set)",
            "postgresql",
            shutil.which("pg_ctlcluster") is not None or shutil.which("postgres") is not None,
        ),
    ]
    missing = [(what, pkg) for what, pkg, ok in required if not ok]
    for what, pkg, ok in optional:
        if not ok:
            print(f"note: optional {what} not found (Debian: {pkg})")
    if missing:
        print("vein2vein needs these system packages, which are missing:", file=sys.stderr)
        for what, pkg in missing:
            print(f"  {what}: apt-get install {pkg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
