"""vein2vein: the open quality platform for CAR-T cell therapy.

The package root imports no heavy libraries; subpackages are imported where used
(``import vein2vein.records``), so ``vein2vein --help`` stays fast.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vein2vein")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
