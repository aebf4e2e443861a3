"""Intake's words: one gettext catalogue per language (``nl.po``, ``fy.po``, ``en.po``),
read with Babel through ``mienskip_shared.i18n``. The pages, the API's answers and the
request history's notes all word their codes from here; message ids are keys
(``reason.distance``), texts use ``{name}`` placeholders."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from mienskip_shared.i18n import Catalogue

DIRECTORY = Path(__file__).resolve().parent


@cache
def catalogue() -> Catalogue:
    """The catalogue, read on first use (not at import) and then kept: it never changes
    while the process runs."""
    return Catalogue(DIRECTORY)
