"""pytest wiring for pytest-oapi-stream: options, ini, the ``oapi`` marker, fixtures, reporting.

Registered through the package's ``pytest11`` module (``plugin/__init__.py``). Thin on purpose:
hooks and fixtures read the configuration and call :mod:`.cassettes` (the vcrpy layer) and the
core checker. Precedence everywhere: marker > command line > ini.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import importlib
import json
import os
import re
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..recording import cassettes as _c
else:

    class _Lazy:
        """The vcrpy layer, imported on first attribute access (it pulls in yaml and more)."""

        def __getattr__(self, name: str) -> Any:
            # pluggy and pytest probe every name of a plugin module (``pytest_impl``,
            # ``_pytestfixturefunction``...): those must not import anything.
            if name.startswith(("_", "pytest")):
                raise AttributeError(name)
            return getattr(importlib.import_module("pytest_oapi_stream.recording.cassettes"), name)

    _c = _Lazy()

__all__ = [
    "MARKER_KWARGS",
    "Settings",
    "oapi_async_client",
    "oapi_cassette",
    "oapi_client",
    "oapi_vcr_config",
]

#: Keyword arguments the ``oapi`` marker accepts.
MARKER_KWARGS: tuple[str, ...] = (
    "profile",
    "ignore",
    "strict",
    "cassette",
    "check",
    "filter_body_fields",
)

_MODE_NAMES = {"replay": "replay", "all": "record", "missing": "record-missing", "live": "live"}

# Registering the options needs these before anything heavy loads; a test keeps them equal to
# ``cassettes.MODES`` and ``cassettes.RECHUNK_STRATEGIES``.
_MODES: tuple[str, ...] = ("replay", "all", "missing", "live")
_RECHUNK_STRATEGIES: tuple[str, ...] = ("random", "bytes", "off")


@dataclasses.dataclass(frozen=True)
class Settings:
    """The session-wide configuration, from the command line over the ini file."""

    mode: str
    profile: str
    strict: bool
    ignore: tuple[str, ...]
    cassette_dir: Path
    cassette_dir_display: str
    base_url: str
    filter_headers: tuple[str, ...]
    filter_query_parameters: tuple[str, ...]
    rechunk: str
    block_network: bool
    profile_origin: str = ""  # "--oapi-profile" or "ini oapi_profile"

    def header(self) -> str:
        """The ``pytest_report_header`` line."""
        line = (
            f"oapi-stream: mode={_MODE_NAMES[self.mode]} cassettes={self.cassette_dir_display} "
            f"profile={self.profile}"
        )
        if self.strict:
            line += " strict=true"
        if self.rechunk != "random":
            line += f" rechunk={self.rechunk}"
        return line


_SETTINGS = pytest.StashKey[Settings]()
_STATS: pytest.StashKey[_c.RunStats] = pytest.StashKey()  # created on first use (_stats)
_HANDLE: pytest.StashKey[_c.CassetteHandle] = pytest.StashKey()
_SHAPE = pytest.StashKey[Any]()  # shape_diff.ShapeChange of a recording, written with it
_RECORDED = pytest.StashKey[set[Path]]()  # cassettes written in this run (shared ones too)
_CLAIMS = pytest.StashKey[Any]()  # unused.Claims: cassettes the collected tests use
_DESELECTED = pytest.StashKey[list[pytest.Item]]()
# (unused cassettes, files pruned, why the run was partial or None)
_UNUSED = pytest.StashKey[tuple[list[Path], list[Path], str | None]]()
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
_EXPLAINED = pytest.StashKey[str]()  # why a failed body's streams are the likely cause


def pytest_addoption(parser: pytest.Parser) -> None:
    """Command-line options (group ``oapi-stream``) and their ini twins."""
    group = parser.getgroup("oapi-stream", "OpenAI-compatible stream contracts")
    group.addoption(
        "--oapi-record",
        nargs="?",
        const="all",
        default=None,
        metavar="all|missing",
        dest="oapi_record",
        help="record cassettes from the live endpoint: all (default: write missing ones and "
        "re-record existing ones) or missing (write only missing ones). ini: oapi_record_mode.",
    )
    group.addoption(
        "--oapi-live",
        action="store_true",
        default=False,
        dest="oapi_live",
        help="talk to the live endpoint, check the streams, write no cassette.",
    )
    group.addoption(
        "--oapi-profile",
        default=None,
        dest="oapi_profile",
        help="default profile for checked streams (ini oapi_profile, default auto).",
    )
    group.addoption(
        "--oapi-strict",
        action="store_true",
        default=None,
        dest="oapi_strict",
        help="warnings fail the check too (ini oapi_strict).",
    )
    group.addoption(
        "--oapi-ignore",
        action="append",
        default=[],
        dest="oapi_ignore",
        metavar="CODES",
        help="rule codes or names to ignore, comma-separated, repeatable (ini oapi_ignore).",
    )
    group.addoption(
        "--oapi-cassette-dir",
        default=None,
        dest="oapi_cassette_dir",
        help="cassette dir relative to the rootdir (ini oapi_cassette_dir, default cassettes).",
    )
    group.addoption(
        "--oapi-rechunk",
        default=None,
        choices=_RECHUNK_STRATEGIES,
        dest="oapi_rechunk",
        help="how replayed bodies are split for the client: random (default), bytes, off "
        "(ini oapi_rechunk).",
    )
    group.addoption(
        "--oapi-accept-changes",
        action="store_true",
        default=False,
        dest="oapi_accept_changes",
        help="when re-recording, accept a changed stream shape: write the new cassette and "
        "its .shape.yaml (by default a shape change fails the test and keeps the old files).",
    )
    group.addoption(
        "--oapi-prune",
        action="store_true",
        default=False,
        dest="oapi_prune",
        help="delete the cassettes (and .shape.yaml) that no collected test uses; the "
        "cassettes of tests that were not selected are never touched.",
    )
    parser.addini("oapi_record_mode", "replay (default), all, missing or live", default="replay")
    parser.addini("oapi_profile", "default profile of checked streams", default="auto")
    parser.addini(
        "oapi_profiles",
        "custom profiles, one a line: NAME: extends=openai OAS021=off extensions=a,b ... "
        "(a chat profile, a Responses one or both; surface=chat|responses says which)",
        type="linelist",
        default=[],
    )
    parser.addini("oapi_strict", "warnings fail the check too", type="bool", default=False)
    parser.addini("oapi_ignore", "rule codes or names ignored everywhere", type="args", default=[])
    parser.addini("oapi_cassette_dir", "cassette dir relative to the rootdir", default="cassettes")
    parser.addini(
        "oapi_base_url",
        "base URL for oapi_client and for marked tests when OPENAI_BASE_URL is not set",
        default="",
    )
    parser.addini(
        "oapi_filter_headers", "more headers to redact in cassettes", type="args", default=[]
    )
    parser.addini(
        "oapi_filter_query_parameters",
        "more query parameters to redact in cassettes",
        type="args",
        default=[],
    )
    parser.addini(
        "oapi_filter_body_fields",
        "request-body fields to redact in cassettes, by path (user metadata.* messages.*.name)",
        type="args",
        default=[],
    )
    parser.addini("oapi_rechunk", "random (default), bytes or off", default="random")
    parser.addini(
        "oapi_block_network",
        "block non-loopback connections while replaying (default true)",
        type="bool",
        default=True,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Keep ``pytest --oapi-record tests/x.py`` from reading the path as the record mode.

    argparse gives an optional value to the option, so the path would become the mode; we
    rewrite the flag to ``--oapi-record=all`` before pytest's final parse, and parse the
    known arguments again so initial conftests are found next to that path.
    """
    if "--oapi-record" in args and _c.fix_record_flag(args):
        early_config.known_args_namespace = parser.parse_known_args(
            args, namespace=copy.copy(early_config.option)
        )


def _settings(config: pytest.Config) -> Settings:
    opt = config.option
    record, live = getattr(opt, "oapi_record", None), getattr(opt, "oapi_live", False)
    if record and live:
        raise pytest.UsageError("--oapi-record and --oapi-live exclude each other; pick one.")
    if record is not None and record not in ("all", "missing"):
        raise pytest.UsageError(
            f"--oapi-record={record}: the record mode is all (the default) or missing."
        )
    mode = "live" if live else record or str(config.getini("oapi_record_mode")).strip()
    if mode not in _MODES:
        raise pytest.UsageError(
            f"oapi_record_mode = {mode!r} is not a mode; use one of {', '.join(_MODES)}."
        )
    from_cli = getattr(opt, "oapi_profile", None)
    profile = from_cli or str(config.getini("oapi_profile")).strip()
    _check_profile(profile, "--oapi-profile / oapi_profile")
    profile_origin = "--oapi-profile" if from_cli else "ini oapi_profile"
    strict = getattr(opt, "oapi_strict", None)
    ignore: list[str] = []
    for value in [*config.getini("oapi_ignore"), *(getattr(opt, "oapi_ignore", None) or [])]:
        ignore += [v.strip() for v in value.split(",") if v.strip()]
    _check_ignore(ignore, "--oapi-ignore / oapi_ignore")
    rechunk = getattr(opt, "oapi_rechunk", None) or str(config.getini("oapi_rechunk")).strip()
    if rechunk not in _RECHUNK_STRATEGIES:
        raise pytest.UsageError(
            f"oapi_rechunk = {rechunk!r}; use one of {', '.join(_RECHUNK_STRATEGIES)}."
        )
    raw_dir = getattr(opt, "oapi_cassette_dir", None) or str(config.getini("oapi_cassette_dir"))
    return Settings(
        mode=mode,
        profile=profile,
        profile_origin=profile_origin,
        strict=bool(strict) if strict is not None else _ini_bool(config, "oapi_strict"),
        ignore=tuple(ignore),
        cassette_dir=config.rootpath / raw_dir,
        cassette_dir_display=raw_dir,
        base_url=str(config.getini("oapi_base_url")).strip(),
        filter_headers=tuple(config.getini("oapi_filter_headers")),
        filter_query_parameters=tuple(config.getini("oapi_filter_query_parameters")),
        rechunk=rechunk,
        block_network=_ini_bool(config, "oapi_block_network"),
    )


def _ini_bool(config: pytest.Config, name: str) -> bool:
    """A boolean ini setting; a bad value names the setting (pytest's own error does not)."""
    try:
        return bool(config.getini(name))
    except (ValueError, pytest.UsageError) as exc:  # pytest < 9 raises ValueError
        found = re.search(r"'(.*)'", str(exc))
        raw = found.group(1) if found else str(exc)
        raise pytest.UsageError(
            f"{name} = {raw!r} is not a truth value; use true or false (or yes/no, on/off, 1/0)."
        ) from None


def _check_profile(profile: Any, where: str) -> None:
    if not isinstance(profile, str) or not profile:
        raise pytest.UsageError(f"{where}: profile must be a profile name, not {profile!r}.")
    if profile == "auto":
        return
    from ..chat.profiles import PROFILE_REGISTRY

    if profile in PROFILE_REGISTRY:
        return
    from ..core.profiles import unknown_everywhere
    from ..responses.profiles import RESPONSE_PROFILE_REGISTRY

    # a profile of either surface (lmstudio, a Responses-only ini profile) is one
    unknown = unknown_everywhere(profile, [PROFILE_REGISTRY, RESPONSE_PROFILE_REGISTRY])
    if unknown is not None:
        raise pytest.UsageError(f"{where}: {unknown}")


def _check_ignore(codes: Any, where: str) -> None:
    if not isinstance(codes, (list, tuple, set, frozenset)) or not all(
        isinstance(c, str) for c in codes
    ):
        raise pytest.UsageError(f"{where}: ignore must be a list of rule codes, not {codes!r}.")
    if not codes:
        return
    known = _known_rules()
    unknown = [c for c in codes if known is not None and c not in known and c.upper() not in known]
    if unknown:
        raise pytest.UsageError(
            f"{where}: unknown rule(s) {', '.join(map(repr, unknown))} in ignore; "
            "use codes like 'OAS015' or names like 'id-constant'."
        )


def _known_rules() -> set[str] | None:
    try:
        from ..chat.rules import RULES
    except ImportError:  # pragma: no cover - the core always ships rules.py
        return None
    from ..responses.rules import RULES as RESPONSE_RULES

    rules = [*(RULES.values() if isinstance(RULES, dict) else RULES), *RESPONSE_RULES]
    return {r.code for r in rules} | {r.name for r in rules}


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, read the settings, start the run's counters."""
    config.addinivalue_line(
        "markers",
        "oapi(profile='auto', ignore=(), strict=False, cassette=None, check=True): replay "
        "(or record with --oapi-record) this test's HTTP through a vcrpy cassette and check "
        "every streamed chat completion (pytest-oapi-stream).",
    )
    _register_ini_profiles(config)
    config.stash[_SETTINGS] = _settings(config)


def _stats(config: pytest.Config) -> _c.RunStats:
    """The run's counters, created when a cassette is first used (nothing loads before)."""
    stats = config.stash.get(_STATS, None)
    if stats is None:
        stats = config.stash[_STATS] = _c.RunStats()
    return stats


def _register_ini_profiles(config: pytest.Config) -> None:
    """Custom profiles from ini ``oapi_profiles``, one ``NAME: key=value ...`` per line: a
    chat profile, a Responses one, or both (``core.profiles.parse_profile_line``)."""
    lines = [line for line in config.getini("oapi_profiles") if line.strip()]
    if not lines:
        return
    from ..chat.profiles import PROFILE_REGISTRY
    from ..core.profiles import parse_profile_line, register_profile
    from ..responses.profiles import RESPONSE_PROFILE_REGISTRY

    for line in lines:
        try:
            made = parse_profile_line(line, [PROFILE_REGISTRY, RESPONSE_PROFILE_REGISTRY])
        except ValueError as exc:
            raise pytest.UsageError(f"oapi_profiles: {exc}") from None
        for profile in made:
            register_profile(profile)


def pytest_report_header(config: pytest.Config) -> str:
    """``oapi-stream: mode=replay cassettes=cassettes profile=auto``."""
    return config.stash[_SETTINGS].header()


def _marker_kwargs(item: pytest.Item) -> dict[str, Any]:
    """The ``oapi`` marker keywords of ``item``, the closest marker winning per keyword."""
    merged: dict[str, Any] = {}
    for mark in item.iter_markers("oapi"):
        if mark.args:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.oapi takes keyword arguments only "
                f"({', '.join(MARKER_KWARGS)}), got positional {mark.args!r}."
            )
        for key, value in mark.kwargs.items():
            if key not in MARKER_KWARGS:
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.oapi got an unknown argument {key!r}; "
                    f"it accepts {', '.join(MARKER_KWARGS)}."
                )
            merged.setdefault(key, value)
    where = f"{item.nodeid}: @pytest.mark.oapi"
    if "profile" in merged:
        _check_profile(merged["profile"], f"{where}(profile=...)")
    if "ignore" in merged:
        if isinstance(merged["ignore"], str):
            merged["ignore"] = [merged["ignore"]]
        _check_ignore(merged["ignore"], f"{where}(ignore=...)")
    for key in ("strict", "check"):
        if key in merged and not isinstance(merged[key], bool):
            raise pytest.UsageError(
                f"{where}({key}=...) must be True or False, not {merged[key]!r}."
            )
    fields = merged.get("filter_body_fields", ())
    if isinstance(fields, str):
        fields = merged["filter_body_fields"] = [fields]
    if not isinstance(fields, (list, tuple)) or not all(isinstance(f, str) and f for f in fields):
        raise pytest.UsageError(
            f"{where}(filter_body_fields=...) must be a list of field paths, not {fields!r}."
        )
    if "cassette" in merged and not (
        isinstance(merged["cassette"], (str, os.PathLike)) and str(merged["cassette"])
    ):
        raise pytest.UsageError(
            f"{where}(cassette=...) must be a file name or path, not {merged['cassette']!r}."
        )
    return merged


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check every ``oapi`` marker before anything runs; a bad argument is a UsageError."""
    for item in items:
        if item.get_closest_marker("oapi") is not None:
            _marker_kwargs(item)


def _test_name(item: pytest.Item) -> str:
    cls = getattr(item, "cls", None)
    name = item.name
    return f"{cls.__name__}.{name}" if cls is not None else name


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """After a passing test body: fail on unmatched requests and on contract violations.

    After a failing one, check the streams it consumed all the same: a broken one is named in
    the failure report (the test's own error stays the failure) and counted in the summary.
    """
    try:
        result = yield
    except BaseException as exc:
        _explain_failure(item, exc)
        raise
    __tracebackhide__ = True
    handle = item.stash.get(_HANDLE, None)
    if handle is not None:
        if handle.session.unmatched:  # the test swallowed the error; fail anyway
            raise handle.session.unmatched[0]
        error = handle.contract_error()
        if error is not None:
            raise error
        if handle.mode == "record":
            _gate_shape(item, handle)
    return result


def _explain_failure(item: pytest.Item, raised: BaseException) -> None:
    """The test body failed: note which consumed streams break their contract, if any."""
    handle = item.stash.get(_HANDLE, None)
    if handle is None or not handle.checks.check:
        return
    if isinstance(raised, (pytest.skip.Exception, pytest.xfail.Exception, KeyboardInterrupt)):
        return
    try:
        failing = [r for r in handle.reports if not r.ok]
    except Exception:  # never let our check hide the test's own failure
        return
    own = getattr(raised, "report", None)  # the body's own assert_valid_chunk_stream
    failing = [r for r in failing if own is None or r.violations != own.violations]
    if not failing:
        return
    head = (
        "the stream this test consumed breaks its contract"
        if len(failing) == 1
        else f"{len(failing)} streams this test consumed break their contract"
    )
    item.stash[_EXPLAINED] = (
        f"{head}; this is the likely cause of the failure above.\n\n"
        + "\n\n".join(r.format() for r in failing)
    )


def _gate_shape(item: pytest.Item, handle: _c.CassetteHandle) -> None:
    """Re-recording: a changed stream shape fails the test unless accepted (docs/contracts.md)."""
    __tracebackhide__ = True
    from ..contracts.shape_diff import compare_with_stored

    change = compare_with_stored(
        handle.path, handle.reports, profile=handle.checks.profile, ignore=handle.checks.ignore
    )
    item.stash[_SHAPE] = change
    if handle.path in item.config.stash.setdefault(_RECORDED, set()):
        return  # a cassette shared by tests: compared with what it was before this run
    if change.changed and not item.config.getoption("oapi_accept_changes", False):
        pytest.fail(change.message(), pytrace=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report (teardown decides whether to write); explain unmatched requests."""
    report: pytest.TestReport = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    explained = item.stash.get(_EXPLAINED, None)
    if explained is not None and report.when == "call":
        del item.stash[_EXPLAINED]
        if report.failed:
            title = "oapi-stream: stream contract"
            addsection = getattr(report.longrepr, "addsection", None)
            if callable(addsection):  # shown right after the traceback, also in JUnit XML
                addsection(title, explained)
            else:
                report.sections.append((title, explained))
    handle = item.stash.get(_HANDLE, None)
    if handle is not None and report.when == "call" and report.failed and handle.session.unmatched:
        raised = call.excinfo.value if call.excinfo is not None else None
        if not isinstance(raised, _c.UnmatchedRequestError):  # e.g. wrapped by the openai SDK
            report.sections.append(("oapi-stream", str(handle.session.unmatched[0])))
    if handle is not None and report.failed:
        handle.redact_report(report)  # no secret in a report: the cassette's filters apply
    return report


def _cassette_path(item: pytest.Item, settings: Settings, marker: dict[str, Any]) -> Path:
    """The cassette a test uses: its marker's ``cassette=``, else the default path."""
    if "cassette" in marker:
        return _c.resolve_cassette_path(settings.cassette_dir, marker["cassette"])
    return _c.default_cassette_path(
        settings.cassette_dir, Path(item.path), item.config.rootpath, _test_name(item)
    )


def _module_folder(settings: Settings, module: Path, rootpath: Path) -> Path:
    return _c.default_cassette_path(settings.cassette_dir, module, rootpath, "x").parent


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Deselected tests (-k, -m, --lf, --deselect) still own their cassettes."""
    if items:
        items[0].config.stash.setdefault(_DESELECTED, []).extend(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Note which cassettes the collected tests use, for the unused-cassettes list."""
    config = session.config
    settings = config.stash[_SETTINGS]
    if not settings.cassette_dir.is_dir():
        return  # no cassette can be unused; a project without cassettes pays nothing here
    from .unused import Claims

    claims = config.stash.setdefault(_CLAIMS, Claims())
    for item in [*session.items, *config.stash.get(_DESELECTED, [])]:
        folder = _module_folder(settings, Path(item.path), config.rootpath)
        claims.see_module(folder)
        # Every collected test claims its cassette path, marked or not: a test may open its
        # cassette at run time (request.getfixturevalue), which collection cannot see, and
        # --oapi-prune must never delete a cassette a test still has.
        claims.claim(_cassette_path(item, settings, _marker_kwargs(item)), folder)
    for arg in config.args:  # node ids: the rest of that module was not even collected
        if "::" in arg:
            module = Path(config.invocation_params.dir, arg.split("::", 1)[0])
            claims.partly(_module_folder(settings, module.resolve(), config.rootpath))


def _unused_lines(config: pytest.Config) -> list[str]:
    if _UNUSED not in config.stash:
        return []  # no cassette folder was scanned: nothing to import or say
    from .unused import unused_lines

    unused, pruned, partial = config.stash.get(_UNUSED, ([], [], None))
    asked = bool(config.getoption("oapi_prune", False))
    return unused_lines(unused, pruned, partial, asked, config.rootpath)


@pytest.fixture
def oapi_vcr_config() -> dict[str, Any]:
    """Extra vcrpy options (filter_headers, before_record_response, ...); override to set them."""
    return {}


@pytest.fixture
def oapi_cassette(
    request: pytest.FixtureRequest, oapi_vcr_config: dict[str, Any]
) -> Iterator[_c.CassetteHandle]:
    """This test's cassette (replayed, recorded or live); ``.streams``, ``.path``, ``.mode``."""
    item = request.node
    config = request.config
    settings = config.stash[_SETTINGS]
    stats = _stats(config)
    marker = _marker_kwargs(item)
    path = _cassette_path(item, settings, marker)
    options = _c.CassetteOptions(
        path=path,
        mode=settings.mode,
        rootpath=config.rootpath,
        nodeid=item.nodeid,
        rechunk=settings.rechunk,
        block_network=settings.block_network,
        filter_headers=settings.filter_headers,
        filter_query_parameters=settings.filter_query_parameters,
        filter_body_fields=(
            *config.getini("oapi_filter_body_fields"),
            *marker.get("filter_body_fields", ()),
        ),
        vcr_config=dict(oapi_vcr_config or {}),
        shared="cassette" in marker,  # may hold other tests' interactions: merge, never replace
    )
    checks = _c.CheckOptions(
        profile=marker.get("profile", settings.profile),
        profile_origin="the oapi marker" if "profile" in marker else settings.profile_origin,
        ignore=(*settings.ignore, *marker.get("ignore", ())),
        strict=marker.get("strict", settings.strict),
        check=marker.get("check", True),
    )
    session = _c.CassetteSession(options)
    item.stash[_REPORTS] = {}  # a rerun (pytest-rerunfailures) must not see the last call
    with pytest.MonkeyPatch.context() as mp:
        if session.mode == "replay" and not os.environ.get("OPENAI_API_KEY"):
            mp.setenv("OPENAI_API_KEY", _c.PLACEHOLDER_API_KEY)
        if settings.base_url and not os.environ.get("OPENAI_BASE_URL"):
            mp.setenv("OPENAI_BASE_URL", settings.base_url)
        problem = None
        try:
            session.start()
        except _c.CassetteMissingError as exc:
            stats.missing += 1
            stats.missing_tests.append(item.nodeid)
            problem = str(exc)
        except _c.CassetteError as exc:
            problem = str(exc)
        if problem is not None:  # outside the except block: no chained traceback
            pytest.fail(problem, pytrace=False)
        handle = _c.CassetteHandle(session, checks)
        item.stash[_HANDLE] = handle
        from ..core import defaults

        ambient = defaults.CheckDefaults(
            profile=checks.profile,
            profile_origin=checks.profile_origin,
            ignore=tuple(checks.ignore),
            strict=checks.strict,
            recorded_request=functools.partial(_recorded_request, handle),
        )
        try:
            with defaults.applied(ambient):  # the checks the test body calls use them
                yield handle
        finally:
            del item.stash[_HANDLE]
            call = item.stash.get(_REPORTS, {}).get("call")
            try:
                written = session.stop(save=call is not None and call.passed)
            except _c.CassetteError as exc:  # e.g. a read-only folder: one line, no traceback
                written, problem = False, str(exc)
            change = item.stash.get(_SHAPE, None)
            if _SHAPE in item.stash:
                del item.stash[_SHAPE]
            if written and change is not None:
                config.stash.setdefault(_RECORDED, set()).add(path)
                if change.new["streams"]:
                    change.write()  # the shape file goes with the cassette it describes
            _count(stats, handle, written, item.nodeid)
            if problem is not None:
                pytest.fail(problem, pytrace=False)


def _recorded_request(
    handle: _c.CassetteHandle, source: Any
) -> tuple[dict[str, Any] | None, str | None] | None:
    """The request body and URL a stream source answered, when the test's cassette saw it.

    An httpx/httpx2/requests response and an openai ``Stream`` carry their request; the bytes
    or text of a replayed or recorded body are looked up among the cassette's interactions.
    """
    carried = _carried_request(source)
    if carried is not None:
        return carried
    if isinstance(source, (bytes, bytearray, memoryview, str)):
        body = source.encode("utf-8") if isinstance(source, str) else bytes(source)
        for interaction in handle.interactions:
            if interaction.is_chat_stream and interaction.body == body:
                return interaction.request_json, interaction.uri
    return None


def _carried_request(source: Any) -> tuple[dict[str, Any] | None, str | None] | None:
    module = type(source).__module__.partition(".")[0]
    if module == "openai":
        source, module = getattr(source, "response", None), "httpx"
    if module not in ("httpx", "httpx2", "requests"):
        return None
    try:
        request = getattr(source, "request", None)
        if request is None:
            return None
        url = getattr(request, "url", None)
        body = getattr(request, "body", None) if module == "requests" else request.content
    except Exception:  # httpx: no request, or a streamed request body not read
        return None
    parsed = None
    if isinstance(body, (bytes, str)) and body:
        with contextlib.suppress(ValueError):
            parsed = json.loads(body)
    return (parsed if isinstance(parsed, dict) else None), (str(url) if url else None)


def _count(stats: _c.RunStats, handle: _c.CassetteHandle, written: bool, nodeid: str) -> None:
    mode = handle.mode
    if mode == "replay":
        stats.replayed += 1
    elif mode == "live":
        stats.live += 1
    elif written:
        stats.recorded += 1
    else:
        stats.not_written += 1
    if handle.session.unmatched:
        stats.unmatched += 1
        stats.unmatched_tests.append(nodeid)
    if handle.checks.check:
        stats.add_reports(handle.checked_reports)


@pytest.fixture(autouse=True)
def _oapi_marked(request: pytest.FixtureRequest) -> None:
    """Open the cassette of every test carrying the ``oapi`` marker."""
    if request.node.get_closest_marker("oapi") is not None:
        request.getfixturevalue("oapi_cassette")


def _client_kwargs(request: pytest.FixtureRequest, handle: _c.CassetteHandle) -> dict[str, Any]:
    settings = request.config.stash[_SETTINGS]
    kwargs: dict[str, Any] = {}
    base_url = os.environ.get("OPENAI_BASE_URL") or settings.base_url
    if base_url:
        kwargs["base_url"] = base_url
    from .fixtures import missing_key_problem

    problem = missing_key_problem(handle.mode, base_url, request.fixturename or "oapi_client")
    if problem is not None:  # not the SDK's traceback: what is missing and where requests go
        pytest.fail(problem, pytrace=False)
    if handle.mode == "replay":
        kwargs["max_retries"] = 0  # an unmatched request fails at once, not after backoff
    return kwargs


@pytest.fixture
def oapi_client(request: pytest.FixtureRequest, oapi_cassette: _c.CassetteHandle) -> Iterator[Any]:
    """An ``openai.OpenAI`` client for the current mode (base URL from env or ini oapi_base_url)."""
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(**_client_kwargs(request, oapi_cassette))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def oapi_async_client(
    request: pytest.FixtureRequest, oapi_cassette: _c.CassetteHandle
) -> Iterator[Any]:
    """An ``openai.AsyncOpenAI`` client for the current mode (same settings as ``oapi_client``)."""
    openai = pytest.importorskip("openai")
    client = openai.AsyncOpenAI(**_client_kwargs(request, oapi_cassette))
    yield client
    import asyncio

    with contextlib.suppress(Exception):  # its event loop may be gone; nothing left to leak
        asyncio.run(client.close())


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """On an xdist worker, hand this worker's counts to the controller."""
    config = session.config
    if _is_worker(config) and _STATS in config.stash:
        config.workeroutput["oapi_stream"] = config.stash[_STATS].to_dict()  # type: ignore[attr-defined]
    if _is_worker(config):
        if _CLAIMS in config.stash:
            config.workeroutput["oapi_stream_claims"] = config.stash[_CLAIMS].to_dict()  # type: ignore[attr-defined]
    elif _CLAIMS in config.stash and exitstatus in (0, 1, 5):  # not after errors, ^C
        from .unused import find_unused, partial_run, prune

        unused = find_unused(config.stash[_CLAIMS])
        partial = partial_run(config)  # a test not collected may claim them: never delete then
        asked = config.getoption("oapi_prune", False)
        pruned = prune(unused) if asked and partial is None else []
        config.stash[_UNUSED] = (unused, pruned, partial)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """On the xdist controller, add a finished worker's counts to the run's."""
    data = getattr(node, "workeroutput", {}).get("oapi_stream")
    if data:
        _stats(node.config).merge(data)
    claims = getattr(node, "workeroutput", {}).get("oapi_stream_claims")
    if claims:
        from .unused import Claims

        node.config.stash.setdefault(_CLAIMS, Claims()).merge(claims)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The ``oapi-stream`` section: cassettes, streams checked, violations, what to run next."""
    if _is_worker(config) or _SETTINGS not in config.stash:
        return
    stats = config.stash.get(_STATS, None)
    active = stats is not None and stats.active
    unused = _unused_lines(config)
    if not active and not unused:
        return
    terminalreporter.write_sep("-", "oapi-stream summary")
    for line in [*(stats.summary_lines() if stats is not None and active else []), *unused]:
        terminalreporter.write_line(line)
