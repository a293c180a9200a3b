"""`shorts doctor` checks keys and Runway's balance and tier without spending a credit."""

from fakes.runway import KEY
from typer.testing import CliRunner

from flows.cli import app


def test_doctor_reports_balance_tier_and_providers_with_one_free_call(runway):
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "4321 credits" in result.output and "gen4_turbo: 3 at once, 7 of" in result.output
    assert "video   provider: runway (RUNWAYML_API_SECRET is set)" in result.output
    assert [(r["method"], r["path"]) for r in runway.requests] == [("GET", "/v1/organization")]
    assert KEY not in result.output


def test_doctor_names_a_refused_key_and_fails(runway, monkeypatch):
    monkeypatch.setenv("RUNWAYML_API_SECRET", "key_" + "e" * 128)
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 1 and "refused the API key" in result.output
    assert "e" * 128 not in result.output


def test_doctor_without_keys_says_what_is_offline():
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0
    assert "Runway: no RUNWAYML_API_SECRET set" in result.output and "not authorised" in result.output
