"""The translation catalogs, kept with Babel: extract, update, compile, check.

``python -m civicflow.cli.catalog`` extracts every message id of the command (``_()``,
``N_()``, ``ngettext()``, ``pgettext()`` in ``civicflow/cli``, the error templates
(``_say()``) and the reasons errors give or are raised with (``because()``) in every
module of ``civicflow``, and every text of ``--help``:
the descriptions, option helps, examples and placeholders of the parser, built in
English), updates each language's ``civicflow.po`` with them (new ones untranslated,
gone ones dropped) and compiles its ``civicflow.mo``; ``--check`` changes nothing and
exits 1 when a message has no translation or a ``.mo`` is not the compiled ``.po``
(tests/test_cli_lang.py runs the same check).

Babel is a development tool here: the command itself reads the compiled ``.mo`` with
the standard library's gettext, and uses Babel only to format numbers.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from civicflow.cli.i18n import DOMAIN, LOCALE_DIR, LOCALES

PACKAGE = Path(__file__).resolve().parent.parent
SOURCES = ("cli/*.py",)
REASONS = "**/*.py"  # an error's template or reason, wherever it is said
KEYWORDS: dict[str, Any] = {
    "_": None,
    "N_": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "NP_": ((1, "c"), 2),
    "_say": None,  # CivicflowError._say(template, **parameters)
    "because": None,  # a reason: because(template, **parameters)
}
REASON_KEYWORDS = {name: KEYWORDS[name] for name in ("_say", "because")}
FIELD = re.compile(r"\{(\w*)[^{}]*\}")


def sources() -> Iterator[tuple[Path, dict[str, Any]]]:
    """Each module to extract from, with the keywords it says message ids with."""
    for pattern in SOURCES:
        yield from ((path, KEYWORDS) for path in sorted(PACKAGE.glob(pattern)))
    shown = {path for pattern in SOURCES for path in PACKAGE.glob(pattern)}
    for path in sorted(PACKAGE.glob(REASONS)):
        if path not in shown:
            yield path, REASON_KEYWORDS


def extract() -> Any:
    """Every message id in the sources, as a Babel catalog (the template)."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    template = Catalog(project="civicflow", charset="utf-8")
    for path, keywords in sources():
        where = path.relative_to(PACKAGE.parent).as_posix()
        for line, message, comments, context in extract_from_file(
            "python", str(path), keywords=keywords, comment_tags=("TRANSLATORS:",)
        ):
            template.add(
                message, locations=[(where, line)], auto_comments=comments, context=context
            )
    for text in help_texts():
        if text and text not in template:
            template.add(text, locations=[("civicflow/cli (--help)", 0)])
    for word in help_placeholders():
        template.add(word, locations=[("civicflow/cli (--help)", 0)], context="metavar")
    return template


def help_texts() -> list[str]:
    """The descriptions, option helps and examples of ``--help``, from the English parser."""
    from civicflow.cli.helptext import texts
    from civicflow.cli.main import build_parser

    return list(texts(build_parser()))


def help_placeholders() -> list[str]:
    """The placeholders of values in ``--help`` (``PROPOSAL``, ``MOMENT``), one word each."""
    from civicflow.cli.helptext import placeholders
    from civicflow.cli.main import build_parser

    return sorted(set(placeholders(build_parser())))


def po_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read(locale: str) -> Any:
    """The language's catalog as it is stored."""
    from babel.messages.pofile import read_po

    with po_path(locale).open("rb") as file:
        return read_po(file, locale=locale, domain=DOMAIN)


def compiled(catalog: Any) -> bytes:
    """The ``.mo`` bytes of a catalog."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def problems(locale: str) -> list[str]:
    """What is wrong with a language's catalog: missing, stale or mismatched messages."""
    catalog = read(locale)
    found = []
    for message in extract():
        if not message.id:
            continue
        stored = catalog.get(message.id, context=message.context)
        strings = stored.string if stored is not None else None
        translated = [strings] if isinstance(strings, str) else list(strings or [])
        if not translated or not all(text.strip() for text in translated):
            found.append(f"{locale}: no translation of {message.id!r}")
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        wanted = set(FIELD.findall(ids[-1]))
        for text in translated:
            if set(FIELD.findall(text)) != wanted:
                found.append(f"{locale}: {message.id!r} is translated with other fields: {text!r}")
    mo = po_path(locale).with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != compiled(catalog):
        found.append(f"{locale}: {mo.name} is not the compiled {po_path(locale).name}")
    return found


def update(locale: str) -> None:
    """Bring the language's ``.po`` up to the sources, and compile its ``.mo``."""
    from babel.messages.pofile import write_po

    catalog = read(locale)
    catalog.update(extract(), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    with po_path(locale).open("wb") as file:
        write_po(file, catalog, width=100, sort_output=True, include_lineno=False)
    po_path(locale).with_suffix(".mo").write_bytes(compiled(read(locale)))


def main(argv: list[str]) -> int:
    locales = [locale for lang, locale in LOCALES.items() if lang != "en"]
    if "--check" not in argv:
        for locale in locales:
            update(locale)
    found = [problem for locale in locales for problem in problems(locale)]
    for problem in found:
        sys.stdout.write(problem + "\n")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
