"""The CJK font for everything the project draws or prints in Chinese (dashboard renders, PDF reports).

One package on every machine: Debian's ``fonts-noto-cjk`` (``./dev`` installs it), so renders look
the same everywhere. ``ENVMON_CJK_FONT`` may name another font file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

#: Debian package that provides the font (kept in sync with ``dev`` ensure_system).
PACKAGE = "fonts-noto-cjk"
#: Where fonts-noto-cjk puts its Simplified-Chinese-capable regular face (a TrueType collection).
_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
)


@lru_cache(maxsize=1)
def cjk_font() -> Path:
    """Path of a font file with Chinese glyphs: ``ENVMON_CJK_FONT``, fonts-noto-cjk, else whatever
    fontconfig lists for ``:lang=zh``. Raises FileNotFoundError naming the package to install."""
    override = os.environ.get("ENVMON_CJK_FONT")
    if override and Path(override).is_file():
        return Path(override)
    for candidate in _CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-list"):
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                                check=False).stdout.splitlines()
        files = sorted(line.split(":")[0].strip() for line in listed if line.strip())
        if files:
            return Path(files[0])
    raise FileNotFoundError(f"no CJK font found: install the Debian package {PACKAGE} (./dev does)")


def cjk_family() -> str:
    """The family name of :func:`cjk_font` as matplotlib knows it (registers the file first)."""
    from matplotlib import font_manager

    path = str(cjk_font())
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()
