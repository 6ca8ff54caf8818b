"""The command's languages: English message ids, translated through gettext catalogs.

Every text a user sees is written in English in the code, wrapped in ``_()`` (or
``ngettext()`` where a count decides the form, ``N_()`` where it is only marked for
extraction), and looked up at display time in the catalog of the language the command
runs in (``--lang``). The catalogs live in ``civicflow/locale/<locale>/LC_MESSAGES/``
as ``civicflow.po`` (edited) and ``civicflow.mo`` (compiled, shipped in the wheel), and
are managed with Babel (``python -m civicflow.cli.catalog``, docs/cli.md). English needs
no catalog: its text is the message id.

Nothing here imports Babel or reads a catalog until a translation or a number is asked
for, so ``civicflow --version`` and ``--help`` stay quick (tests/test_startup.py).
Events and JSON keep codes (``satisfied``, ``doing``), never labels.
"""

from __future__ import annotations

import gettext as _gettext
import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

LOCALES = {"en": "en", "zh": "zh_Hans"}  # --lang value -> catalog locale (and Babel's)
DOMAIN = "civicflow"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_language = "en"


def use(lang: str) -> None:
    """Run the rest of this command in ``lang`` (``en`` or ``zh``)."""
    global _language  # noqa: PLW0603 - one command, one language, set once by main()
    _language = lang if lang in LOCALES else "en"


def language() -> str:
    """The language the command runs in: ``en`` or ``zh``."""
    return _language


@cache
def catalog(lang: str) -> _gettext.NullTranslations:
    """The compiled catalog of ``lang``; English (the message ids themselves) needs none."""
    if lang == "en":
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, LOCALE_DIR, languages=[LOCALES[lang]])


def _(message: str) -> str:
    """``message`` in the command's language."""
    if _language == "en" or not message:
        return message
    return catalog(_language).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for ``n`` things (``1 record``, ``2 records``)."""
    if _language == "en":
        return singular if n == 1 else plural
    return catalog(_language).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in a context (``field``: a column's name) that tells it apart."""
    if _language == "en":
        return message
    return catalog(_language).pgettext(context, message)


def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark, translate later"
    """Mark ``message`` for the catalog; it is translated where it is shown."""
    return message


def NP_(context: str, message: str) -> str:  # noqa: N802 - as N_, with a context
    """Mark ``message`` in ``context`` for the catalog; translated with ``pgettext``."""
    return message


def number(value: int | float | Decimal, digits: int | None = None) -> str:
    """A number as the language writes it (grouping; ``digits`` after the point)."""
    from babel.numbers import format_decimal  # only once a number is shown

    pattern = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return str(format_decimal(value, format=pattern, locale=LOCALES[_language]))


def percent(value: float | Decimal, digits: int = 1) -> str:
    """A share (0.83) as a percentage in the language (``83.0%``)."""
    from babel.numbers import format_percent

    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return str(format_percent(value, format=pattern, locale=LOCALES[_language]))


def day(value: date | datetime, lang: str | None = None) -> str:
    """A day as the language writes it: ``2026-07-01`` in English, ``2026年7月1日`` in Chinese.

    English keeps ISO 8601, the text scripts read; the other languages are Babel's long date.
    Only for text shown: JSON and events keep ISO 8601.
    """
    lang = lang or _language
    plain = value.date() if isinstance(value, datetime) else value
    if lang == "en":
        return plain.isoformat()
    from babel.dates import format_date  # only once a date is shown

    return str(format_date(plain, format="long", locale=LOCALES[lang]))


def moment(value: datetime, lang: str | None = None) -> str:
    """A date and time as the language writes it, in its own offset (``+08:00`` said)."""
    lang = lang or _language
    if lang == "en":
        return value.isoformat()
    from babel.dates import format_datetime

    locale, zone = LOCALES[lang], value.tzinfo
    said = str(format_datetime(value, format="medium", tzinfo=zone, locale=locale))
    return said if zone is None else f"{said} {format_datetime(value, 'xxx', locale=locale)}"


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?")


def dated(text: str, lang: str | None = None) -> str:
    """``text`` as the language writes it if it is an ISO 8601 date or date and time, else as is."""
    if (lang or _language) == "en":
        return text
    if ISO_DAY.fullmatch(text):
        return day(date.fromisoformat(text), lang)
    if ISO_MOMENT.fullmatch(text):
        return moment(datetime.fromisoformat(text.replace("Z", "+00:00")), lang)
    return text


ISO_WITHIN = re.compile(rf"(?<![\w:.+-])(?:{ISO_MOMENT.pattern}|{ISO_DAY.pattern})(?![\w:.+-])")


def dates_within(text: str, lang: str | None = None) -> str:
    """``text`` with each ISO 8601 date (or date and time) in it as the language writes it.

    For a line the library writes with ISO dates inside (the history's ``due 2026-09-30``).
    """
    if (lang or _language) == "en":
        return text
    return ISO_WITHIN.sub(lambda found: _dated_or_as_is(found[0], lang), text)


def _dated_or_as_is(text: str, lang: str | None) -> str:
    try:
        return dated(text, lang)
    except ValueError:  # looks like a date, is none (2026-13-45)
        return text


def width(text: str) -> int:
    """The columns ``text`` takes in a terminal (Chinese characters take two)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def pad(text: str, size: int) -> str:
    """``text`` padded with spaces to ``size`` columns."""
    return text + " " * (size - width(text))


def yes_no(value: bool) -> str:
    """A boolean as a word of the language."""
    return _("yes") if value else _("no")


__all__ = [
    "LOCALES",
    "LOCALE_DIR",
    "NP_",
    "N_",
    "_",
    "catalog",
    "dated",
    "dates_within",
    "day",
    "language",
    "moment",
    "ngettext",
    "number",
    "pad",
    "percent",
    "pgettext",
    "use",
    "width",
    "yes_no",
]
