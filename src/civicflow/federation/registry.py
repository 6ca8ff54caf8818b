"""The city registry: which districts a city has, and where each one's store is.

One TOML file, written by the city's operators and safe to keep in version control:
it names each district, the area id of the district in its store's directory, and
the store's URL. Secrets never go in the file: a URL says ``${VARIABLE}`` where a
password goes, and the value is read from the environment when the city opens.

```toml
name = "Shanyang City"

[districts.shanyang]
area = "d-shanyang"
store = "postgresql://civic@db-1:5432/civic?schema=shanyang"

[districts.beilin]
area = "d-beilin"
store = "postgresql://civic:${BEILIN_DB_PASSWORD}@db-2:5432/civic?schema=beilin"
```

An optional top-level ``views = "URL"`` names the store the city's views are kept
in (``federation/cityviews.py``). A relative SQLite path (``sqlite:///beilin.db``)
is read beside the registry file.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from civicflow.errors import ConfigurationError
from civicflow.errors.reasons import Reason, because

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DISTRICT_KEYS = frozenset({"area", "store"})
_CITY_KEYS = frozenset({"name", "districts", "views"})
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class District:
    """One district of the city: its name in the registry, its area id, its store."""

    name: str
    area: str
    store: str  # the URL as written, placeholders and all (safe to print)

    def url(self) -> str:
        """The store's URL with each ``${VARIABLE}`` read from the environment.

        Raises:
            ConfigurationError: a variable the URL names is not set.
        """
        return _resolved(self.store, because("district {name}", name=self.name))


def _resolved(store: str, whose: Reason) -> str:
    def value(match: re.Match[str]) -> str:
        found = os.environ.get(match.group(1))
        if found is None:
            raise ConfigurationError(
                because(
                    "{whose}: the store URL needs ${{{variable}}}, "
                    "which is not set in the environment",
                    whose=whose,
                    variable=match.group(1),
                )
            )
        return found

    return _PLACEHOLDER.sub(value, store)


@dataclass(frozen=True)
class Registry:
    """A city: its name and its districts, in the order the file lists them."""

    name: str
    districts: tuple[District, ...]
    views: str | None = None  # the city views' store, as written (see ``views_url``)

    def views_url(self) -> str | None:
        """The URL of the store the city's views are kept in, secrets read from the
        environment; None when the registry names none.

        Raises:
            ConfigurationError: a variable the URL names is not set.
        """
        return None if self.views is None else _resolved(self.views, because("the city views"))

    def district(self, name: str) -> District:
        """The district called ``name``.

        Raises:
            ConfigurationError: the city has no such district.
        """
        for district in self.districts:
            if district.name == name:
                return district
        known = ", ".join(d.name for d in self.districts)
        said = because("the city has no district {name!r} (it has {known})", name=name, known=known)
        raise ConfigurationError(said)


def load_registry(path: str | Path) -> Registry:
    """Read and check a city registry file.

    Raises:
        ConfigurationError: the file is missing or not TOML, a key is unknown or
            missing, two districts share a name or an area, or a URL holds a password
            written out instead of a ``${VARIABLE}``.
    """
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as error:
        said = because("cannot read the city registry {file}: {error}", file=file, error=_os(error))
        raise ConfigurationError(said) from None
    except tomllib.TOMLDecodeError as error:
        said = because("the city registry {file} is not TOML: {error}", file=file, error=str(error))
        raise ConfigurationError(said) from None
    return parse_registry(data, base=file.resolve().parent)


def parse_registry(data: dict[str, Any], *, base: Path) -> Registry:
    """A registry from TOML already read (``base``: the folder relative paths start from).

    Raises:
        ConfigurationError: as ``load_registry``.
    """
    _only(data, _CITY_KEYS, because("the city"))
    name = data.get("name")
    districts = data.get("districts")
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(because('the city registry needs a name = "..."'))
    if not isinstance(districts, dict) or not districts:
        said = because("the city registry needs at least one [districts.NAME] table")
        raise ConfigurationError(said)
    found = tuple(_district(key, table, base) for key, table in districts.items())
    _distinct([d.area for d in found], "area")
    views = data.get("views")
    if views is not None:
        if not isinstance(views, str) or not views.strip():
            raise ConfigurationError(because('the city views need a store URL: views = "..."'))
        _no_written_password(because("the city views"), views)
        views = _anchored(views.strip(), base)
    return Registry(name=name.strip(), districts=found, views=views)


def _district(name: str, table: Any, base: Path) -> District:
    if not _NAME.match(name):
        raise ConfigurationError(
            because(
                "district name {name!r}: use lower-case letters, digits, '-' and '_'", name=name
            )
        )
    if not isinstance(table, dict):
        said = because("districts.{name} must be a table with area and store", name=name)
        raise ConfigurationError(said)
    whose = because("district {name}", name=name)
    _only(table, _DISTRICT_KEYS, whose)
    area, store = _text(table, "area", name), _text(table, "store", name)
    _no_written_password(whose, store)
    return District(name=name, area=area, store=_anchored(store, base))


def _text(table: dict[str, Any], key: str, name: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(because('district {name} needs {key} = "..."', name=name, key=key))
    return value.strip()


def _only(table: dict[str, Any], allowed: frozenset[str], where: Reason) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigurationError(
            because(
                "{where}: unknown key {keys} (allowed: {allowed})",
                where=where,
                keys=", ".join(unknown),
                allowed=", ".join(sorted(allowed)),
            )
        )


def _distinct(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            said = because(
                "two districts of the city have the {what} {value!r}", what=what, value=value
            )
            raise ConfigurationError(said)
        seen.add(value)


def _no_written_password(whose: Reason, store: str) -> None:
    """A password in the file would be in every copy of it: refused, with the way out."""
    if "://" not in store:
        return
    password = urlsplit(store).password
    if password is not None and not _PLACEHOLDER.fullmatch(password):
        raise ConfigurationError(
            because(
                "{whose}: the store URL holds a password; write ${{VARIABLE}} in its "
                "place and set VARIABLE in the environment",
                whose=whose,
            )
        )


def _os(error: OSError) -> str:
    """The system's words for ``error``, as ``str(error)`` says them: its reason translatable."""
    if error.errno is None or not error.strerror or error.filename2 is not None:
        return str(error)
    if error.filename is None:
        return because("[Errno {errno}] {reason}", errno=error.errno, reason=error.strerror)
    return because(
        "[Errno {errno}] {reason}: {file!r}",
        errno=error.errno,
        reason=error.strerror,
        file=error.filename,
    )


def _anchored(store: str, base: Path) -> str:
    """A relative SQLite path, read from the registry's folder rather than the caller's."""
    prefix = "sqlite:///"
    if store.startswith(prefix) and not store.startswith(prefix + "/"):
        return prefix + str(base / store.removeprefix(prefix))
    return store
