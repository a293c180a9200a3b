"""OpenAI first frames are paid calls like clips: priced before, counted in the ledger and the dollar caps, and
reported on the frame."""

import pytest
from fakes.openai import BASE_URL, FakeOpenAI, error

from pipeline import (
    AssetStore,
    ConfigError,
    ProviderError,
    Scene,
    Script,
    Settings,
    ShortRequest,
    build_provider,
    check_budget,
    choose_providers,
    estimate_cost,
    make_first_frame,
    open_ledger,
)
from pipeline.providers.openai.client import MediaConnection
from pipeline.providers.openai.image import OpenAIImageMaker
from pipeline.providers.openai.prices import image_usd

KEY = "fake-openai-key-for-tests"
SCENE = Scene(
    index=1,
    narration="Octopuses change colour in a blink.",
    first_frame_prompt="an octopus on a reef",
    motion_prompt="slow push in",
    seconds=5,
)


def _settings(monkeypatch, **values: str) -> Settings:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_a_frame_is_priced_by_model_and_quality_and_the_setting_overrides(monkeypatch):
    assert image_usd(_settings(monkeypatch)) == 0.11  # gpt-image-2, medium
    assert image_usd(_settings(monkeypatch, SHORTS_OPENAI_IMAGE_QUALITY="auto")) == 0.29  # may pick high
    assert image_usd(_settings(monkeypatch, SHORTS_OPENAI_IMAGE_USD="0")) == 0.0  # a free compatible server
    monkeypatch.delenv("SHORTS_OPENAI_IMAGE_USD")
    with pytest.raises(ConfigError, match="SHORTS_OPENAI_IMAGE_USD"):
        image_usd(_settings(monkeypatch, SHORTS_OPENAI_IMAGE_MODEL="my-local-diffusion"))


def test_each_frame_is_a_ledger_row_in_dollars_and_its_cost_is_on_the_frame(monkeypatch, tiny, tmp_path):
    fake = FakeOpenAI()
    settings = _settings(monkeypatch, SHORTS_OPENAI_IMAGE_QUALITY="high")
    maker = OpenAIImageMaker(
        MediaConnection(KEY, BASE_URL, fake.client(), max_retries=0),
        quality="high",
        usd=image_usd(settings),
        ledger=open_ledger(settings),
    )
    frame = make_first_frame(SCENE, "photo", tiny, maker, AssetStore(tmp_path))
    assert (frame.cost.usd, frame.cost.credits) == (0.29, 0.0)
    [row] = open_ledger(settings).tasks()
    assert (row.provider, row.kind, row.unit, row.status, row.amount_spent) == (
        "openai",
        "first frame",
        "usd",
        "done",
        0.29,
    )
    make_first_frame(SCENE, "photo", tiny, maker, AssetStore(tmp_path))  # from the store: no new row
    assert len(open_ledger(settings).tasks()) == 1


def test_a_failed_frame_counts_only_when_it_may_have_been_made(monkeypatch, tiny, tmp_path):
    fake = FakeOpenAI()
    settings = _settings(monkeypatch)
    maker = OpenAIImageMaker(
        MediaConnection(KEY, BASE_URL, fake.client(), max_retries=0), usd=0.11, ledger=open_ledger(settings)
    )
    fake.failures["/images/generations"] = [error(400, "Your prompt was rejected"), error(500, "server error")]
    with pytest.raises(ProviderError, match="rejected the request"):
        make_first_frame(SCENE, "photo", tiny, maker, AssetStore(tmp_path))
    with pytest.raises(ProviderError, match="may have been made and billed"):
        make_first_frame(SCENE, "photo", tiny, maker, AssetStore(tmp_path))
    rejected, unconfirmed = open_ledger(settings).tasks()
    assert (rejected.status, rejected.amount_spent) == ("rejected", 0.0)
    assert (unconfirmed.status, unconfirmed.amount_spent, unconfirmed.amount_estimated) == ("unconfirmed", None, 0.11)
    assert open_ledger(settings).spent_since(unconfirmed.created_at, "usd") == 0.11  # still counted against the cap


def test_the_dollar_caps_cover_openai_frames_before_the_first_is_drawn(monkeypatch):
    settings = _settings(monkeypatch, SHORTS_MAX_USD_PER_SHORT="0.3")
    scenes = [SCENE.model_copy(update={"index": i}) for i in range(1, 4)]
    script = Script(title="Octopus", description="d", tags=["t"], hook="h", scenes=scenes)
    choices = choose_providers(ShortRequest(topic="octopus", seconds=15, scenes=3), settings)
    assert estimate_cost(script, choices, settings).usd == 0.33
    with pytest.raises(ConfigError, match=r"up to \$0.33, over SHORTS_MAX_USD_PER_SHORT=0.3"):
        check_budget(script, choices, settings)
    settings = _settings(monkeypatch, SHORTS_MAX_USD_PER_SHORT="1", SHORTS_MAX_USD_PER_DAY="0.5")
    ledger = open_ledger(settings)
    ledger.update(
        ledger.reserve(
            key="k", provider="openai", kind="first frame", model="gpt-image-2", estimate=0.2, daily_cap=1, unit="usd"
        ),
        status="done",
        amount_spent=0.2,
    )
    with pytest.raises(ConfigError, match="SHORTS_MAX_USD_PER_DAY"):
        check_budget(script, choices, settings)


def test_the_built_maker_reads_its_price_ledger_and_daily_cap_from_settings(monkeypatch):
    maker = build_provider("image", "openai", _settings(monkeypatch, SHORTS_MAX_USD_PER_DAY="7"))
    assert (maker.usd, maker.daily_cap) == (0.11, 7.0) and maker.ledger is not None
