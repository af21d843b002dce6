"""Custom profiles: in code and in ini (``oapi_profiles``), with clear errors for bad settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_oapi_stream import check_chunk_stream, get_profile
from pytest_oapi_stream.chat.profiles import parse_profile_spec

SEED = Path(__file__).parents[1] / "data" / "seed" / "deepseek-chat__hello.sse"


def test_spec_builds_a_derived_profile() -> None:
    prof = parse_profile_spec(
        "gw: extends=deepseek OAS021=warn model-constant=info extensions=provider,usage.cost "
        "usage_in_x_groq=true"
    ).resolve()
    assert prof.name == "gw"
    assert prof.severity["OAS021"] == "warn" and prof.severity["OAS017"] == "info"
    assert prof.severity["OAS036"] == "error"  # inherited from deepseek
    assert {"provider", "usage.cost", "usage.prompt_cache_hit_tokens"} <= prof.extensions
    assert prof.usage_in_x_groq and prof.usage_on_finish_chunk


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("gw extends=openai", "expected 'NAME: key=value ...'"),
        ("gw: foo=bar", "unknown setting 'foo'"),
        ("gw: OAS999=off", "unknown rule code(s) OAS999"),
        ("gw: OAS021=loud", "must be one of error, warn, info, off, not 'loud'"),
        ("gw: extends=nope", "unknown profile 'nope'"),
        ("gw: usage_in_x_groq=maybe", "takes true or false"),
        ("gw: OAS021", "is not key=value"),
    ],
)
def test_bad_specs_name_the_setting(spec: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_profile_spec(spec)
    assert message in str(info.value)


def test_ini_profiles_are_usable_by_name(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        oapi_profiles =
            relaxed-deepseek: extends=openai OAS021=off OAS026=off
        """
    )
    pytester.makepyfile(
        test_it=f"""
        from pytest_oapi_stream import check_chunk_stream

        def test_profile_from_ini():
            strict = check_chunk_stream(open({str(SEED)!r}, "rb").read(), profile="openai")
            relaxed = check_chunk_stream(
                open({str(SEED)!r}, "rb").read(), profile="relaxed-deepseek")
            assert not strict.ok and relaxed.ok
            assert relaxed.profile.name == "relaxed-deepseek"
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_bad_ini_profile_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        oapi_profiles = broken: OAS021=sometimes
        """
    )
    pytester.makepyfile(test_it="def test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*oapi_profiles: profile 'broken': severity of OAS021*"])


def test_code_profile_relaxes_a_real_stream() -> None:
    from pytest_oapi_stream import Profile

    mine = Profile(name="mine", extends="openai", severity={"OAS021": "off", "OAS026": "warn"})
    report = check_chunk_stream(SEED, profile=mine)
    assert report.ok, report.format()
    assert report.profile_reason == "given as a Profile"
    assert get_profile("openai").severity.get("OAS021") is None  # the built-in is untouched
