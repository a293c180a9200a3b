"""A key a vendor echoes back in its error text never reaches a message, a log line or Prefect's records."""

import logging

import httpx
import pytest

from pipeline import Settings, ShortsError
from pipeline.providers.base import Line
from pipeline.providers.elevenlabs.voice import ElevenLabsNarrator

KEY = "el-test-echoed-0123456789"


def test_a_key_echoed_in_a_vendor_error_is_redacted(monkeypatch, tmp_path):
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    Settings()  # reading the settings is what makes the key known

    def echo(request: httpx.Request) -> httpx.Response:  # a server that quotes the key it was sent
        return httpx.Response(
            400,
            json={"detail": {"status": "bad_request", "message": f"Key {request.headers['xi-api-key']} is not valid"}},
        )

    narrator = ElevenLabsNarrator(api_key=KEY, http_client=httpx.Client(transport=httpx.MockTransport(echo)))
    with pytest.raises(ShortsError) as caught:
        narrator.speak(Line("Hello there.", "JBFqnCBsd6RMkjVDRZzb", "en", 5.0), tmp_path / "a.wav")
    assert KEY not in str(caught.value) and "Key [redacted] is not valid" in str(caught.value)


def test_log_records_and_their_tracebacks_are_redacted(monkeypatch, caplog):
    from flows.prefect_env import redact_log_records

    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    Settings()
    redact_log_records()
    log = logging.getLogger("shorts.test")
    try:
        try:
            raise ValueError(f"the SDK said: key {KEY} refused")
        except ValueError as exc:
            raise ShortsError("ElevenLabs refused the request") from exc
    except ShortsError:
        with caplog.at_level(logging.ERROR, logger="shorts.test"):
            log.exception("step failed, key %s", KEY)
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert KEY not in text and "key [redacted] refused" in text and "step failed, key [redacted]" in text
