"""OpenAI first frames, narration and word timings, through the real SDK against a fake server."""

import logging
import socket
import wave
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import numpy as np
import openai
import pytest
from fakes.openai import BASE_URL, FakeOpenAI, error, image_size_problem, serving
from PIL import Image

from pipeline import (
    AssetStore,
    ConfigError,
    ProviderError,
    Scene,
    Settings,
    ShortRequest,
    build_provider,
    make_first_frame,
    narrate,
)
from pipeline.alignment import align_words
from pipeline.pause_timing import PauseTimer
from pipeline.providers.openai.client import MediaConnection, make_client, paid_call
from pipeline.providers.openai.image import OpenAIImageMaker
from pipeline.providers.openai.voice import OpenAINarrator
from pipeline.providers.openai.words import OpenAIWordTimer
from pipeline.speech_text import spoken_text
from pipeline.timing import read_wav

KEY = "sk-test-not-a-real-key"
SCENE = Scene(
    index=2,
    narration="In 1969, octopuses were filmed changing colour; nobody knew how!",
    first_frame_prompt="an octopus on a coral reef",
    motion_prompt="slow push in",
    seconds=5,
)
REQUEST = ShortRequest(topic="octopus camouflage", seconds=10, scenes=2)


@pytest.fixture
def fake() -> FakeOpenAI:
    return FakeOpenAI()


def options(fake: FakeOpenAI, retries: int = 0) -> MediaConnection:
    return MediaConnection(KEY, BASE_URL, fake.client(), max_retries=retries)


def narrator(fake: FakeOpenAI, timer: bool = True, retries: int = 0, **extra) -> OpenAINarrator:
    word_timer = OpenAIWordTimer(options(fake)) if timer else None
    return OpenAINarrator(options(fake, retries), word_timer=word_timer, **extra)


@pytest.mark.parametrize("as_url", [False, True], ids=["base64", "url"])
def test_first_frame_is_asked_for_at_a_true_9_16_and_fitted_whole(fake, tiny, tmp_path, as_url):
    fake.image_as_url = as_url
    maker = OpenAIImageMaker(options(fake), model="gpt-image-2", quality="low")
    frame = make_first_frame(SCENE, "watercolour", tiny, maker, AssetStore(tmp_path))

    body = fake.bodies("/images/generations")[0]
    assert body["size"] == "1152x2048" and body["model"] == "gpt-image-2" and body["quality"] == "low"
    with Image.open(frame.path) as img:
        assert img.size == (tiny.width, tiny.height)
        pixels = np.asarray(img.convert("RGB")).astype(int)
    # The fake paints blue edge columns: a 9:16 picture loses nothing to a crop, so they are still there.
    assert pixels[:, 0, 2].min() > 150 and pixels[:, -1, 2].min() > 150 and pixels[:, tiny.width // 2, 1].min() > 150
    assert "an octopus on a coral reef" in body["prompt"] and "watercolour" in body["prompt"]
    assert "response_format" not in body  # GPT image models reject it
    assert ("/img/1.png" in fake.paths()) is as_url
    make_first_frame(SCENE, "watercolour", tiny, maker, AssetStore(tmp_path))
    assert len(fake.bodies("/images/generations")) == 1  # the second call came from the store


def test_a_model_of_fixed_sizes_is_asked_for_its_tallest_and_centre_cropped(fake, tiny, tmp_path):
    maker = OpenAIImageMaker(options(fake), model="gpt-image-1.5")
    frame = make_first_frame(SCENE, "watercolour", tiny, maker, AssetStore(tmp_path))
    assert fake.bodies("/images/generations")[0]["size"] == "1024x1536"  # it refuses 1152x2048
    with Image.open(frame.path) as img:
        pixels = np.asarray(img.convert("RGB")).astype(int)
    # The fake paints red bands exactly where a 9:16 centre crop of 1024x1536 cuts; none may survive.
    assert pixels[:, :, 0].max() < 60 and pixels[:, :, 1].min() > 150


def test_the_default_image_settings_ask_for_a_size_the_model_accepts(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    maker = build_provider("image", "openai", Settings())
    assert maker.size == "1152x2048" and image_size_problem(maker.model, maker.size) is None
    assert maker._client.max_retries == 0 and maker._client.timeout.read == 600.0  # minutes, and no SDK retries
    monkeypatch.setenv("SHORTS_OPENAI_IMAGE_MODEL", "gpt-image-1.5")
    maker = build_provider("image", "openai", Settings())
    assert image_size_problem(maker.model, maker.size) is None


@pytest.mark.parametrize("fault", ["500", "read timeout"])
def test_an_image_that_may_have_been_made_is_never_asked_for_again_blindly(fake, tiny, tmp_path, fault):
    if fault == "500":
        fake.failures["/images/generations"] = [error(500, "The server had an error while processing your request.")]
    else:
        fake.broken["/images/generations"] = [httpx.ReadTimeout("timed out")]
    maker = OpenAIImageMaker(options(fake, retries=2))
    with pytest.raises(
        ProviderError,
        match=r"gave no usable answer while drawing the first frame \(gpt-image-2\) "
        r"\((HTTP 500|APITimeoutError)\), so it may have been made and",
    ) as e:
        make_first_frame(SCENE, "watercolour", tiny, maker, AssetStore(tmp_path))
    assert e.value.retry_safe is False  # so Prefect does not send it again either
    assert len(fake.bodies("/images/generations")) == 1


@pytest.mark.parametrize("fault", ["429", "refused"])
def test_an_image_refused_before_any_work_is_asked_for_again(fake, tiny, tmp_path, fault):
    if fault == "429":
        fake.failures["/images/generations"] = [
            httpx.Response(
                429,
                headers={"retry-after": "0"},
                json={"error": {"message": "Rate limit reached", "type": "requests", "code": None}},
            )
        ]
    else:
        fake.broken["/images/generations"] = [httpx.ConnectError("connection refused")]
    maker = OpenAIImageMaker(options(fake, retries=2))
    frame = make_first_frame(SCENE, "watercolour", tiny, maker, AssetStore(tmp_path))
    assert frame.path.exists() and len(fake.bodies("/images/generations")) == 2 and fake.images_made == 1


@contextmanager
def refusing() -> Iterator[tuple[socket.socket, int]]:
    """A 127.0.0.1 port bound but not listening, so a connection to it is refused; closing the socket frees it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock, sock.getsockname()[1]


@contextmanager
def never_accepting() -> Iterator[str]:
    """A base URL whose server listens with its queue full: the kernel drops each new connection attempt, so a
    connect neither succeeds nor is refused (as with a black-holed host) until the client's connect timeout."""
    with socket.socket() as server, socket.socket() as queued:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        queued.connect(server.getsockname())  # never accepted: it fills the queue
        yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"


def test_a_refused_connection_through_the_sdks_own_transport_is_sent_again(fake):
    # openai 3.x's own transport raises httpx2's ConnectError, no subclass of httpx's: still "never connected".
    waits: list[float] = []
    with refusing() as (sock, port), ExitStack() as server:
        client = make_client(KEY, f"http://127.0.0.1:{port}/v1", paid=True)  # no http_client: the SDK's own

        def start_listening(seconds: float) -> None:  # paid_call's pause before the second send
            waits.append(seconds)
            sock.close()
            server.enter_context(serving(fake, port))

        result = paid_call(
            lambda: client.images.generate(model="gpt-image-2", prompt="a reef", size="1152x2048"),
            sleep=start_listening,
        )
    assert waits == [1.0] and result.data[0].b64_json
    assert fake.images_made == 1 and len(fake.bodies("/images/generations")) == 1


def test_an_image_whose_connection_is_always_refused_is_retry_safe_and_not_called_billed(tiny, tmp_path, caplog):
    with refusing() as (_, port), caplog.at_level(logging.INFO, logger="shorts"):
        maker = OpenAIImageMaker(MediaConnection(KEY, f"http://127.0.0.1:{port}/v1", max_retries=1))
        with pytest.raises(
            ProviderError,
            match=r"Could not reach the OpenAI server while drawing the first frame "
            r"\(gpt-image-2\) \(APIConnectionError\)",
        ) as caught:
            make_first_frame(SCENE, "watercolour", tiny, maker, AssetStore(tmp_path))
    assert caught.value.retry_safe and "billed" not in str(caught.value)
    assert type(caught.value.__cause__.__cause__).__name__ == "ConnectError"  # httpx2's or httpx's, as the SDK uses
    assert caplog.text.count("sending it again") == 1  # sent twice, as max_retries=1 allows


def test_an_image_host_that_never_accepts_the_connection_is_retry_safe_and_not_called_billed(tiny, tmp_path):
    with never_accepting() as url:
        maker = OpenAIImageMaker(MediaConnection(KEY, url, timeout=0.2, max_retries=0))
        assert maker._client.timeout.connect == 0.2  # never longer than the whole wait
        with pytest.raises(ProviderError, match=r"Could not reach the OpenAI server .*\(APITimeoutError\)") as caught:
            make_first_frame(SCENE, "watercolour", tiny, maker, AssetStore(tmp_path))
    assert caught.value.retry_safe and "billed" not in str(caught.value)
    assert type(caught.value.__cause__.__cause__).__name__ == "ConnectTimeout"  # not a read timeout: nothing sent


def test_an_image_and_its_download_wait_minutes_for_bytes_but_seconds_to_connect(fake, tiny, tmp_path):
    fake.image_as_url = True
    make_first_frame(SCENE, "watercolour", tiny, OpenAIImageMaker(options(fake)), AssetStore(tmp_path))
    for path in ("/images/generations", "/img/1.png"):  # what the SDK, then our download, told the transport
        assert (fake.timeouts[path]["read"], fake.timeouts[path]["connect"]) == (600.0, 10.0)


@pytest.mark.parametrize("step, read", [("image", 600.0), ("voice", 600.0), ("script", 120.0)])
def test_a_long_wait_for_the_answer_keeps_a_short_wait_to_connect(monkeypatch, step, read):
    # A float timeout would also be the connect timeout: an unreachable host would hang for minutes.
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    timeout = build_provider(step, "openai", Settings())._client.timeout
    assert isinstance(timeout, openai.Timeout) and (timeout.read, timeout.connect) == (read, 10.0)


@pytest.mark.parametrize("wav_style", ["streamed", "float32"])
def test_speech_is_stored_as_pcm_wav_and_words_follow_the_transcript(fake, tmp_path, wav_style):
    fake.wav_style = wav_style

    def recogniser(words, times):  # Whisper's way: no punctuation, lower case
        return [(word.strip(",;!").lower(), start, end) for word, (start, end) in zip(words, times, strict=False)]

    fake.heard = recogniser
    narration = narrate(REQUEST, SCENE, narrator(fake, speed=1.1, instructions="calm"), AssetStore(tmp_path))

    words, times = next(iter(fake.spoken.values()))
    said, counts = spoken_text(SCENE.narration)  # "1969," is said as "nineteen sixty-nine,", two bursts
    assert words == said.split() and counts[1] == 2
    assert narration.timing == "transcript" and narration.voice == "coral"
    assert [w.word for w in narration.words] == SCENE.narration.split()  # the script's spelling and punctuation
    first = [sum(counts[:i]) for i in range(len(counts))]
    for timing, i, n in zip(narration.words, first, counts, strict=False):  # a written word spans the words that say it
        assert timing.start == pytest.approx(times[i][0], abs=0.01)
        assert timing.end == pytest.approx(times[i + n - 1][1], abs=0.01)
    with wave.open(str(narration.path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getframerate() == 24_000
        assert narration.seconds == pytest.approx(w.getnframes() / 24_000)
    samples, rate = read_wav(narration.path)
    assert narration.seconds == pytest.approx(times[-1][1] + 0.3, abs=0.01)  # the real audio's length
    assert 0.1 < np.abs(samples).max() <= 10 ** (-1 / 20)  # brought to the narration's loudness, peaks under -1 dBFS

    speech = fake.bodies("/audio/speech")[0]
    assert speech["response_format"] == "wav" and speech["voice"] == "coral" and speech["speed"] == 1.1
    assert speech["instructions"] == "calm" and speech["input"] == said
    upload = fake.bodies("/audio/transcriptions")[0]
    assert upload["response_format"] == "verbose_json" and upload["timestamp_granularities[]"] == ["word"]
    assert upload["model"] == "whisper-1" and upload["language"] == "en"


def test_narration_and_transcript_are_reused_from_the_store(fake, tmp_path):
    store = AssetStore(tmp_path)
    first = narrate(REQUEST, SCENE, narrator(fake), store)
    again = narrate(REQUEST, SCENE, narrator(fake), store)
    assert again == first
    assert fake.paths() == ["/audio/speech", "/audio/transcriptions"]


def test_failed_transcription_falls_back_to_proportional_timing_and_says_so(fake, tmp_path, caplog):
    fake.failures["/audio/transcriptions"] = [error(400, "verbose_json is not supported for this model")]
    with caplog.at_level(logging.WARNING, logger="shorts"):
        narration = narrate(REQUEST, SCENE, narrator(fake), AssetStore(tmp_path))

    assert narration.timing == "audio" and [w.word for w in narration.words] == SCENE.narration.split()
    _, times = next(iter(fake.spoken.values()))
    assert narration.words[0].start == pytest.approx(times[0][0], abs=0.01)  # spread over the voiced span
    assert narration.words[-1].end == pytest.approx(times[-1][1], abs=0.01)
    assert "scene 2: no word timings from whisper-1" in caplog.text
    assert "verbose_json is not supported" in caplog.text


def test_a_transcript_of_other_words_is_not_trusted(fake, tmp_path, caplog):
    fake.heard = lambda words, times: [("static", s, e) for s, e in times]
    with caplog.at_level(logging.WARNING, logger="shorts"):
        narration = narrate(REQUEST, SCENE, narrator(fake), AssetStore(tmp_path))
    assert (
        narration.timing == "audio" and "matched only 0 of 11 script words" in caplog.text
    )  # as spoken: 1969 is two words


def test_by_default_the_words_are_timed_from_the_pauses_without_a_transcript(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("SHORTS_OPENAI_VOICE", "nova")
    built = build_provider("voice", "openai", Settings())
    assert isinstance(built, OpenAINarrator) and isinstance(built.word_timer, PauseTimer) and built.voice == "nova"
    monkeypatch.setenv("SHORTS_OPENAI_WORD_TIMINGS", "true")  # the transcript aligner only when asked for
    assert isinstance(build_provider("voice", "openai", Settings()).word_timer, OpenAIWordTimer)

    narration = narrate(REQUEST, SCENE, narrator(fake, timer=False), AssetStore(tmp_path))
    assert fake.paths() == ["/audio/speech"] and narration.timing == "pauses"  # nothing sent to whisper-1
    _, times = next(iter(fake.spoken.values()))
    assert [w.word for w in narration.words] == SCENE.narration.split()
    counts = spoken_text(SCENE.narration)[1]
    for timing, i in zip(narration.words, [sum(counts[:i]) for i in range(len(counts))], strict=False):
        assert timing.start == pytest.approx(times[i][0], abs=0.05)  # each word on its burst, found by the pauses


def test_a_speech_model_shut_down_names_the_other_voices(fake, tmp_path):
    fake.failures["/audio/speech"] = [
        error(
            404, "The model `gpt-4o-mini-tts` does not exist or you do not have access to it.", code="model_not_found"
        )
    ]
    with pytest.raises(ConfigError) as caught:
        narrate(REQUEST, SCENE, narrator(fake, timer=False), AssetStore(tmp_path))
    message = str(caught.value)
    assert "OpenAI no longer serves gpt-4o-mini-tts" in message and "2027-01-06" in message and "\n" not in message
    assert all(f"--voice {name}" in message for name in ("elevenlabs", "edge", "offline"))
    assert len(fake.bodies("/audio/speech")) == 1


@pytest.mark.parametrize("fault", ["500", "lost"])
def test_speech_that_may_have_been_made_is_not_asked_for_twice(fake, tmp_path, fault):
    if fault == "500":
        fake.failures["/audio/speech"] = [error(500, "The server had an error")]
    else:
        fake.broken["/audio/speech"] = [httpx.ReadTimeout("the answer was lost")]
    with pytest.raises(ProviderError) as caught:
        narrate(REQUEST, SCENE, narrator(fake, timer=False, retries=2), AssetStore(tmp_path))
    assert "may have been made and billed" in str(caught.value) and not caught.value.retry_safe
    assert len(fake.bodies("/audio/speech")) == 1

    fake.failures["/audio/speech"] = [
        httpx.Response(429, headers={"retry-after": "0"}, json={"error": {"message": "Rate limit", "code": None}})
    ]
    narrate(REQUEST, SCENE, narrator(fake, timer=False, retries=2), AssetStore(tmp_path / "b"))
    assert len(fake.bodies("/audio/speech")) == 3  # a 429 proves nothing was made: sent again


def test_tts_1_gets_no_instructions_and_a_bad_voice_is_one_sentence(fake, tmp_path):
    plain = narrator(fake, timer=False, model="tts-1", instructions="calm")
    narrate(REQUEST, SCENE, plain, AssetStore(tmp_path))
    assert "instructions" not in fake.bodies("/audio/speech")[0]

    fake.failures["/audio/speech"] = [error(404, "voice 'robot' not found")]
    with pytest.raises(ConfigError) as caught:
        narrate(REQUEST.model_copy(update={"voice": "robot"}), SCENE, plain, AssetStore(tmp_path / "b"))
    assert caught.value.scene == 2 and caught.value.step == "narration"
    assert "voice 'robot' not found" in str(caught.value) and "\n" not in str(caught.value)


def test_alignment_keeps_script_words_and_interpolates_the_unheard():
    heard = [("the", 0.0, 0.2), ("quick", 0.3, 0.6), ("fox", 1.5, 1.8), ("jumps", 1.9, 2.2), ("uh", 2.3, 2.4)]
    timings, matched = align_words("The quick, brown fox jumps.", heard, start=0.0, end=2.5)
    assert [t.word for t in timings] == ["The", "quick,", "brown", "fox", "jumps."] and matched == 4
    assert (timings[1].start, timings[1].end) == (0.3, 0.6) and (timings[3].start, timings[3].end) == (1.5, 1.8)
    assert 0.6 <= timings[2].start < timings[2].end <= 1.5  # "brown" was not heard: placed in the gap
    assert all(a.start <= b.start for a, b in zip(timings, timings[1:], strict=False))
