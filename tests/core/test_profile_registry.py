"""One profile registry for both surfaces: names, lookup errors, ``auto`` by host then port,
``register_profile`` of either surface, and the one-line ini form (``oapi_profiles``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_oapi_stream import (
    Profile,
    ResponseProfile,
    check_chunk_stream,
    check_response_stream,
    get_profile,
    get_response_profile,
    register_profile,
)
from pytest_oapi_stream.chat.profiles import PROFILE_REGISTRY, PROFILES, profile_from_url
from pytest_oapi_stream.core.profiles import (
    ProfileRegistry,
    parse_profile_line,
    unknown_everywhere,
)
from pytest_oapi_stream.responses.profiles import (
    RESPONSE_PROFILE_REGISTRY,
    RESPONSE_PROFILES,
    register_response_profile,
    response_profile_from_url,
)

DATA = Path(__file__).parents[1] / "data"
XAI = DATA / "corpus-responses" / "xai__grok-2-1212_text-region-suffixed-ids.sse"
SEED = DATA / "seed" / "deepseek-chat__hello.sse"
BOTH: list[ProfileRegistry[Any]] = [PROFILE_REGISTRY, RESPONSE_PROFILE_REGISTRY]


@pytest.fixture(autouse=True)
def _own_registries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Profiles registered by a test are gone after it (the registries are process-wide)."""
    for reg in BOTH:
        monkeypatch.setattr(reg, "_profiles", dict(reg._profiles))
    yield


# ------------------------------------------------------------------ the registry


def test_builtin_names_stay_in_catalog_order() -> None:
    assert PROFILE_REGISTRY.builtins == PROFILES and PROFILES[0] == "openai"
    assert RESPONSE_PROFILE_REGISTRY.builtins == RESPONSE_PROFILES
    assert RESPONSE_PROFILES[-1] == "openresponses"
    register_profile(Profile(name="zz-mine"))
    assert PROFILE_REGISTRY.names()[-1] == "zz-mine" and "zz-mine" not in PROFILES


def test_unknown_names_list_the_known_ones_and_the_surface_that_has_it() -> None:
    with pytest.raises(ValueError, match=r"^unknown profile 'nope'; known profiles: auto, ") as e:
        get_profile("nope")
    assert "lmstudio" not in str(e.value)
    with pytest.raises(ValueError, match=r"\('lmstudio' is a Responses profile\)"):
        get_profile("lmstudio")
    with pytest.raises(ValueError, match=r"unknown Responses profile 'groq'.*is a chat profile"):
        get_response_profile("groq")
    with pytest.raises(ValueError, match=r"'x' is a chat profile \(Profile\), not a Responses one"):
        get_response_profile(Profile(name="x"))  # type: ignore[arg-type]
    assert unknown_everywhere("lmstudio", BOTH) is None and unknown_everywhere("auto") is None
    message = unknown_everywhere("nope", BOTH)
    assert message is not None and "groq" in message and "lmstudio" in message


def test_register_profile_takes_a_profile_of_either_surface() -> None:
    chat = register_profile(Profile(name="gw", severity={"OAS021": "off"}))
    resp = register_profile(ResponseProfile(name="gw", severity={"OAS109": "warn"}))
    assert isinstance(chat, Profile) and isinstance(resp, ResponseProfile)
    assert get_profile("gw").severity == {"OAS021": "off"}
    assert get_response_profile("gw").severity == {"OAS109": "warn"}
    assert check_response_stream(XAI, profile="gw").ok
    assert not check_response_stream(XAI, profile="openai").ok
    with pytest.raises(TypeError, match="takes a Profile or a ResponseProfile, not dict"):
        register_profile({"name": "gw"})  # type: ignore[type-var]
    with pytest.raises(TypeError, match="must be a ResponseProfile, not Profile"):
        register_response_profile(Profile(name="gw"))  # type: ignore[arg-type]


def test_auto_matches_hosts_then_ports_and_custom_profiles_first() -> None:
    assert profile_from_url(None) is None and profile_from_url("http://10.0.0.1:8000/") is None
    found = profile_from_url("http://localhost:11434/v1/chat/completions")
    assert found is not None and found[0].name == "ollama"
    assert found[1] == "auto: request port 11434 (ollama's default)"
    found = profile_from_url("http://[::1]:11434/v1")
    assert found is not None and found[0].name == "ollama"
    resp = response_profile_from_url("http://127.0.0.1:1234/v1/responses")
    assert resp is not None and resp[0].name == "lmstudio"
    register_profile(Profile(name="our-openai", hosts=("api.openai.com",), ports=(8080,)))
    register_profile(ResponseProfile(name="our-gw", extends="openai", ports=(8080,)))
    found = profile_from_url("https://api.openai.com/v1/chat/completions")
    assert found is not None and found[0].name == "our-openai"
    found = profile_from_url("http://127.0.0.1:8080/v1/chat/completions")
    assert found is not None and found[0].name == "our-openai"
    resp = response_profile_from_url("http://127.0.0.1:8080/v1/responses")
    assert resp is not None and resp[0].name == "our-gw"
    assert resp[1] == "auto: request port 8080 (our-gw's default)"


# ------------------------------------------------------------------ the ini form


def _made(line: str) -> dict[str, dict[str, str]]:
    """Surface -> severity overrides of the profiles a line makes."""
    out = {}
    for prof in parse_profile_line(line, BOTH):
        surface = "responses" if isinstance(prof, ResponseProfile) else "chat"
        out[surface] = dict(prof.severity)
    return out


@pytest.mark.parametrize(
    ("line", "made"),
    [
        # settings both surfaces have: a profile for each
        ("gw: extends=openai extensions=usage.cost", {"chat": {}, "responses": {}}),
        ("gw: OAS003=info", {"chat": {"OAS003": "info"}, "responses": {"OAS003": "info"}}),
        # a rule name both catalogs have, under each surface's own code
        ("gw: extension-fields=off", {"chat": {"OAS014": "off"}, "responses": {"OAS110": "off"}}),
        # a setting one surface has: that surface only
        ("gw: OAS021=off", {"chat": {"OAS021": "off"}}),
        ("gw: model-constant=info", {"chat": {"OAS017": "info"}}),
        ("gw: extends=groq", {"chat": {}}),
        ("gw: OAS137=warn optional=annotation.title", {"responses": {"OAS137": "warn"}}),
        ("gw: done_required=true", {"responses": {}}),
        # surface= says which
        ("gw: surface=responses OAS003=info", {"responses": {"OAS003": "info"}}),
        ("gw: surface=chat extends=openai", {"chat": {}}),
        ("gw: surface=chat,responses", {"chat": {}, "responses": {}}),
    ],
)
def test_a_line_makes_a_profile_for_each_surface_it_fits(
    line: str, made: dict[str, dict[str, str]]
) -> None:
    assert _made(line) == made


def test_a_line_sets_every_kind_of_field() -> None:
    (chat,) = parse_profile_line(
        "gw: extends=none hosts=gw.example,gw2.example ports=8080,9090 finish_reasons=a,b "
        "usage_on_finish_chunk=yes filter_chunks=0",
        BOTH,
    )
    assert isinstance(chat, Profile) and chat.extends is None
    assert chat.hosts == ("gw.example", "gw2.example") and chat.ports == (8080, 9090)
    assert chat.finish_reasons == {"a", "b"}
    assert chat.usage_on_finish_chunk and not chat.filter_chunks
    (resp,) = parse_profile_line("gw: optional=a,b done_required=true", BOTH)
    assert isinstance(resp, ResponseProfile) and resp.done_required
    assert resp.optional == {"a", "b"} and resp.extends == "openai"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("gw extends=openai", "profile spec 'gw extends=openai': expected 'NAME: key=value ...'"),
        ("gw: OAS021", "profile 'gw': setting 'OAS021' is not key=value"),
        # unknown on every surface: named once, with what every surface knows
        ("gw: foo=bar", "profile 'gw': unknown setting 'foo'; known: extends, surface, "),
        ("gw: OAS021=off foo=bar", "profile 'gw': unknown setting 'foo'; known: "),
        ("gw: OAS999=off", "profile 'gw': unknown rule code(s) OAS999"),
        ("gw: extends=nope", "profile 'gw': unknown profile 'nope'; known profiles: anthropic"),
        # settings of different surfaces on one line
        (
            "gw: OAS021=off OAS137=warn",
            "profile 'gw': no surface has all its settings: OAS137=warn is not a chat setting "
            "(unknown rule code(s) OAS137); OAS021=off is not a Responses setting (unknown rule "
            "code(s) OAS021); write one line per surface with surface=chat and surface=responses",
        ),
        # a forced surface names the setting it lacks
        ("gw: surface=responses OAS021=off", "profile 'gw' (surface=responses): unknown rule"),
        ("gw: surface=chat done_required=true", "(surface=chat): unknown setting 'done_required'"),
        ("gw: surface=both", "profile 'gw': surface='both'; use chat or responses"),
        # bad values
        ("gw: OAS021=loud", "severity of OAS021 must be one of error, warn, info, off, not 'loud'"),
        ("gw: usage_in_x_groq=maybe", "profile 'gw': usage_in_x_groq takes true or false"),
        ("gw: ports=80a", "profile 'gw': ports takes port numbers, not '80a'"),
    ],
)
def test_a_bad_line_names_the_setting_in_one_line(line: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_profile_line(line, BOTH)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_line_profiles_check_real_streams_of_their_surface() -> None:
    for prof in parse_profile_line(
        "gw: OAS021=off OAS026=off surface=chat",
        BOTH,
    ) + parse_profile_line("gw: optional=event.response.output_text.done.logprobs", BOTH):
        register_profile(prof)
    assert not check_chunk_stream(SEED, profile="openai").ok
    assert check_chunk_stream(SEED, profile="gw").ok
    assert check_response_stream(XAI, profile="gw").ok
