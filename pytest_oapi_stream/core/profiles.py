"""Profile mechanics shared by the surfaces: severity overrides, the ``extends`` merge, the
extension whitelist, the registry of named profiles, how a request URL selects a profile under
``auto``, and the one-line ini form of a custom profile (``oapi_profiles``).

Each surface's profile class is data (its own fields) over these functions; each surface's
profiles module holds one :class:`ProfileRegistry` of its class and built-ins. The registries
know each other only here (by profile class), so :func:`register_profile` takes a profile of
either surface and :func:`parse_profile_line` makes one profile per surface a line fits.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import fields
from types import MappingProxyType
from typing import Any, Generic, Literal, Protocol, TypeVar

__all__ = [
    "LEVELS",
    "NO_SEVERITY",
    "ProfileLike",
    "ProfileRegistry",
    "SeverityOverride",
    "allows_extension",
    "check_severity",
    "host_matches",
    "host_of",
    "merged_onto",
    "parse_profile_line",
    "register_profile",
    "registries",
    "unknown_everywhere",
]

SeverityOverride = Literal["error", "warn", "info", "off"]
LEVELS: tuple[SeverityOverride, ...] = ("error", "warn", "info", "off")
NO_SEVERITY: Mapping[str, SeverityOverride] = MappingProxyType({})


def check_severity(name: str, severity: Mapping[str, str], known: Collection[str]) -> None:
    """A profile's severity overrides name known codes and levels (``ValueError`` otherwise)."""
    for code, level in severity.items():
        if level not in LEVELS:
            raise ValueError(
                f"profile {name!r}: severity of {code} must be one of "
                f"{', '.join(LEVELS)}, not {level!r}"
            )
    unknown = sorted(set(severity) - set(known))
    if unknown:
        raise ValueError(f"profile {name!r}: unknown rule code(s) {', '.join(unknown)}")


def merged_onto(child: Any, parent: Any, own: Collection[str]) -> dict[str, Any]:
    """The field values of profile ``child`` merged onto its resolved ``parent``.

    Fields in ``own`` are the child's alone; severities merge (the child's win); sets are
    unioned; any other field is the child's when set, else the parent's.
    """
    merged: dict[str, Any] = {}
    for f in fields(child):
        mine, theirs = getattr(child, f.name), getattr(parent, f.name)
        if f.name in own:
            merged[f.name] = mine
        elif f.name == "extends":
            merged[f.name] = None
        elif f.name == "severity":
            merged[f.name] = MappingProxyType({**theirs, **mine})
        elif isinstance(mine, frozenset):
            merged[f.name] = theirs | mine
        else:
            merged[f.name] = mine or theirs
    return merged


def allows_extension(extensions: frozenset[str], path: str) -> bool:
    """Whether ``path`` (e.g. ``choices[].delta.reasoning``) is whitelisted: itself, ``*``, or
    a ``prefix.*`` of it."""
    if path in extensions or "*" in extensions:
        return True
    parts = path.split(".")
    return any(".".join(parts[:i]) + ".*" in extensions for i in range(1, len(parts)))


def host_of(url: str) -> str:
    """``https://user@API.x.ai:443/v1`` -> ``api.x.ai:443`` (lower case, no credentials)."""
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    return host.lower()


def host_matches(hostname: str, suffixes: Iterable[str]) -> bool:
    """Whether ``hostname`` is one of ``suffixes`` or below one (``.azure.com`` style or not)."""
    for suffix in suffixes:
        bare = suffix.lstrip(".")
        if hostname == bare or hostname.endswith("." + bare):
            return True
    return False


def host_and_port(url: str) -> tuple[str, str]:
    """``http://[::1]:11434/v1`` -> ``("[::1]", "11434")``; the port is ``""`` when absent."""
    host = host_of(url)
    if host.startswith("["):  # an IPv6 literal: its colons are not the port's
        hostname, _, rest = host.partition("]")
        return hostname + "]", rest.removeprefix(":")
    hostname, _, port = host.partition(":")
    return hostname, port


_S = TypeVar("_S")


class ProfileLike(Protocol):
    """What a registry needs of a surface's profile class (a frozen dataclass)."""

    @property
    def name(self) -> str: ...

    @property
    def hosts(self) -> tuple[str, ...]: ...

    @property
    def ports(self) -> tuple[int, ...]: ...

    def resolve(self: _S) -> _S: ...


_P = TypeVar("_P", bound=ProfileLike)

#: Every surface's registry, by its profile class: how :func:`register_profile` dispatches.
_REGISTRIES: dict[type[Any], ProfileRegistry[Any]] = {}

#: Settings of an ini line that are not fields of the profile class.
_LINE_KEYS = ("extends", "surface", "OASnnn or a rule name")
_NOT_SETTINGS = frozenset({"name", "description", "extends", "severity"})
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


class ProfileRegistry(Generic[_P]):
    """The named profiles of one surface: its built-ins in catalog order, then custom ones.

    ``surface`` is the surface's name in an ini line's ``surface=`` (``chat``, ``responses``),
    ``title`` its name in messages, ``noun`` what an unknown name is called (``profile``,
    ``Responses profile``); ``rules`` returns the surface's catalog by code (called lazily: the
    catalogs import their profiles module).
    """

    def __init__(
        self,
        cls: type[_P],
        builtins: Iterable[_P],
        *,
        surface: str,
        title: str,
        noun: str,
        rules: Callable[[], Mapping[str, Any]],
    ) -> None:
        self.cls = cls
        self.surface = surface
        self.title = title
        self.noun = noun
        self._rules = rules
        self._profiles: dict[str, _P] = {p.name: p for p in builtins}
        #: The built-in names, in catalog order.
        self.builtins: tuple[str, ...] = tuple(self._profiles)
        self._kinds: dict[str, str] | None = None
        _REGISTRIES[cls] = self

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._profiles

    def names(self) -> tuple[str, ...]:
        """Every selectable name: the built-ins in catalog order, then registered ones."""
        return tuple(self._profiles)

    def register(self, profile: _P) -> _P:
        """Make ``profile`` selectable by its name (replacing one of that name)."""
        if not isinstance(profile, self.cls):
            raise TypeError(
                f"a {self.title} profile must be a {self.cls.__name__}, not "
                f"{type(profile).__name__}; register_profile() takes a profile of any surface"
            )
        self._profiles[profile.name] = profile
        return profile

    def get(self, name: str | _P) -> _P:
        """The resolved profile of that name (or that profile resolved); a clear ``ValueError``
        lists the valid names."""
        if isinstance(name, str):
            found = self._profiles.get(name)
            if found is not None:
                return found.resolve()
        elif isinstance(name, self.cls):
            return name.resolve()
        raise ValueError(self.unknown(name))

    def unknown(self, name: object) -> str:
        """The message for a name this surface does not know (naming the surface that does)."""
        if not isinstance(name, str) and hasattr(name, "name"):
            owner = _REGISTRIES.get(type(name))
            if owner is not None:
                return (
                    f"profile {name.name!r} is a {owner.title} profile "
                    f"({type(name).__name__}), not a {self.title} one ({self.cls.__name__})"
                )
        message = (
            f"unknown {self.noun} {name!r}; known profiles: auto, "
            f"{', '.join(sorted(self._profiles))}"
        )
        others = [r.title for r in _REGISTRIES.values() if r is not self and name in r]
        if others:
            message += f" ({name!r} is a {' and '.join(others)} profile)"
        return message

    def from_url(self, url: str | None) -> tuple[_P, str] | None:
        """The profile and reason the request URL selects under ``auto``, or None: the host
        (suffix match), else the port of a local server. Registered profiles are matched
        before the built-ins, so a custom profile can claim a built-in's host."""
        if not url:
            return None
        hostname, port = host_and_port(url)
        builtin = [p for n, p in self._profiles.items() if n in self.builtins]
        ordered = [p for n, p in self._profiles.items() if n not in self.builtins] + builtin
        for prof in ordered:
            if host_matches(hostname, prof.hosts):
                return prof.resolve(), f"auto: request host {hostname}"
        if port.isdigit():
            for prof in ordered:
                if int(port) in prof.ports:
                    return prof.resolve(), f"auto: request port {port} ({prof.name}'s default)"
        return None

    # -- the ini form (``oapi_profiles``) ------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """The profile fields an ini line may set, each with its kind: ``set`` (comma list),
        ``names`` (comma list, in order), ``ports`` (comma list of numbers), ``flag``."""
        if self._kinds is None:
            kinds: dict[str, str] = {}
            for f in fields(self.cls):  # type: ignore[arg-type]  # a dataclass, by contract
                kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
                if f.name in _NOT_SETTINGS:
                    continue
                if kind.startswith("frozenset["):
                    kinds[f.name] = "set"
                elif kind == "bool":
                    kinds[f.name] = "flag"
                elif kind == "tuple[int, ...]":
                    kinds[f.name] = "ports"
                elif kind.startswith("tuple["):
                    kinds[f.name] = "names"
            self._kinds = kinds
        return self._kinds

    def code_of(self, key: str) -> str:
        """A rule name of this catalog -> its code; anything else upper-cased."""
        for rule in self._rules().values():
            if rule.name == key:
                return str(rule.code)
        return key.upper()

    def rejects(self, key: str, value: str) -> str | None:
        """Why ``key=value`` is not a setting of this surface's profiles, or None."""
        if key == "surface":
            return None
        if key == "extends":
            return None if value == "none" or value in self else f"unknown profile {value!r}"
        if key in self.settings():
            return None
        code = self.code_of(key)
        if code.startswith("OAS"):
            return None if code in self._rules() else f"unknown rule code(s) {code}"
        return f"unknown setting {key!r}"

    def from_settings(self, name: str, settings: Sequence[tuple[str, str]], line: str) -> _P:
        """The profile of an ini line whose keys this surface knows (:meth:`rejects`); a bad
        value is a ``ValueError`` naming the setting."""
        kinds = self.settings()
        kwargs: dict[str, Any] = {"name": name, "extends": "openai", "description": f"ini: {line}"}
        severity: dict[str, str] = {}
        for key, value in settings:
            if key == "surface":
                continue
            if key == "extends":
                kwargs["extends"] = None if value == "none" else value
            elif key in kinds:
                kwargs[key] = _setting_value(name, key, value, kinds[key])
            else:
                severity[self.code_of(key)] = value
        kwargs["severity"] = MappingProxyType(severity)
        return self.cls(**kwargs)


def _setting_value(name: str, key: str, value: str, kind: str) -> Any:
    items = [v for v in value.split(",") if v]
    if kind == "set":
        return frozenset(items)
    if kind == "names":
        return tuple(items)
    if kind == "ports":
        if not all(v.isdigit() and 0 < int(v) < 65536 for v in items):
            raise ValueError(f"profile {name!r}: {key} takes port numbers, not {value!r}")
        return tuple(int(v) for v in items)
    if value.lower() not in (*_TRUE, *_FALSE):
        raise ValueError(f"profile {name!r}: {key} takes true or false, not {value!r}")
    return value.lower() in _TRUE


def registries() -> tuple[ProfileRegistry[Any], ...]:
    """Every surface's registry (those whose profiles module is imported), chat first."""
    return tuple(_REGISTRIES.values())


def register_profile(profile: _P) -> _P:
    """Make a custom profile selectable by name (``profile="mine"``, ini ``oapi_profile``) on
    its surface: a chat ``Profile`` for chat streams, a ``ResponseProfile`` for Responses ones."""
    for cls in type(profile).__mro__:
        registry = _REGISTRIES.get(cls)
        if registry is not None:
            return registry.register(profile)  # type: ignore[no-any-return]
    kinds = " or a ".join(cls.__name__ for cls in _REGISTRIES)
    raise TypeError(f"register_profile takes a {kinds}, not {type(profile).__name__}")


def unknown_everywhere(
    name: str, among: Sequence[ProfileRegistry[Any]] | None = None
) -> str | None:
    """None when some surface knows profile ``name`` (or it is ``auto``), else the message."""
    regs = list(_REGISTRIES.values() if among is None else among)
    if name == "auto" or any(name in r for r in regs):
        return None
    known = sorted({n for r in regs for n in r.names()})
    return f"unknown profile {name!r}; known profiles: auto, {', '.join(known)}"


def parse_profile_line(line: str, among: Sequence[ProfileRegistry[Any]] | None = None) -> list[Any]:
    """The profiles one ini line (``oapi_profiles``) makes: one per surface it is for.

    ``our-gateway: extends=openai OAS021=off model-constant=info extensions=provider,usage.cost
    usage_on_finish_chunk=true`` -- ``NAME:`` then space-separated ``key=value`` settings: a
    parent (default ``openai``; ``none`` for no parent), rule codes or names with a severity,
    and the profile class's fields (comma lists for sets, hosts and ports; ``true``/``false``
    for relaxations). ``surface=chat`` or ``surface=responses`` (or both, comma-separated)
    says which surfaces the line is for; without it, every surface that has all the line's
    settings gets one (``extends=openai extensions=usage.cost`` makes a profile for chat and
    one for Responses; ``OAS021=off``, a chat rule, makes a chat profile only). A bad line is a
    ``ValueError`` naming the setting.
    """
    regs = list(_REGISTRIES.values() if among is None else among)
    name, settings = _split_line(line)
    wanted = [v for k, v in settings if k == "surface"]
    if wanted:
        by_surface = {r.surface: r for r in regs}
        picked: list[ProfileRegistry[Any]] = []
        for value in ",".join(wanted).split(","):
            if value not in by_surface:
                raise ValueError(
                    f"profile {name!r}: surface={value!r}; use "
                    f"{' or '.join(by_surface)} (comma-separated for more than one)"
                )
            picked.append(by_surface[value])
        for reg in dict.fromkeys(picked):
            for key, value in settings:
                why = reg.rejects(key, value)
                if why is not None:
                    hint = _hint(key, [reg])
                    raise ValueError(f"profile {name!r} (surface={reg.surface}): {why}{hint}")
        return [reg.from_settings(name, settings, line) for reg in dict.fromkeys(picked)]
    fits = [r for r in regs if all(r.rejects(k, v) is None for k, v in settings)]
    if fits:
        return [reg.from_settings(name, settings, line) for reg in fits]
    for key, value in settings:  # a setting no surface has: say so with every surface's names
        whys = [r.rejects(key, value) for r in regs]
        if all(w is not None for w in whys):
            raise ValueError(f"profile {name!r}: {whys[0]}{_hint(key, regs)}")
    parts = []
    for reg in regs:
        key, value, why = next(
            (k, v, w) for k, v in settings if (w := reg.rejects(k, v)) is not None
        )
        parts.append(f"{key}={value} is not a {reg.title} setting ({why})")
    raise ValueError(
        f"profile {name!r}: no surface has all its settings: {'; '.join(parts)}; write one "
        f"line per surface with {' and '.join(f'surface={r.surface}' for r in regs)}"
    )


def _split_line(line: str) -> tuple[str, list[tuple[str, str]]]:
    name, sep, rest = line.partition(":")
    name = name.strip()
    if not sep or not name or " " in name:
        raise ValueError(f"profile spec {line!r}: expected 'NAME: key=value ...'")
    settings = []
    for token in rest.split():
        key, eq, value = token.partition("=")
        if not eq or not value:
            raise ValueError(f"profile {name!r}: setting {token!r} is not key=value")
        settings.append((key, value))
    return name, settings


def _hint(key: str, regs: Sequence[ProfileRegistry[Any]]) -> str:
    """What a rejected ``key`` could have been, over the surfaces ``regs``."""
    if key == "extends":
        known = sorted({n for r in regs for n in r.names()})
        return f"; known profiles: {', '.join(known)}, none"
    if key.upper().startswith("OAS") or any(r.code_of(key).startswith("OAS") for r in regs):
        return ""
    fields_ = dict.fromkeys(f for r in regs for f in r.settings())
    return f"; known: {', '.join((*_LINE_KEYS, *fields_))}"
