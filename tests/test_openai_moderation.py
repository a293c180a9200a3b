"""The moderation pre-check, through the real SDK against a fake server."""

import pytest
from fakes.openai import BASE_URL, FakeOpenAI, error

from pipeline import ConfigError, Scene, Script, Settings, moderate_script

SCRIPT = Script(
    title="Octopus",
    description="d",
    tags=["octopus"],
    hook="Look.",
    scenes=[
        Scene(
            index=1,
            narration="Octopuses hide in plain sight.",
            first_frame_prompt="an octopus on a reef",
            motion_prompt="slow push in",
            seconds=5,
        ),
        Scene(
            index=2,
            narration="They change colour in a blink.",
            first_frame_prompt="a gory shark attack",
            motion_prompt="camera shakes",
            seconds=5,
        ),
    ],
)


@pytest.fixture
def fake(monkeypatch) -> FakeOpenAI:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    return FakeOpenAI()


def test_a_flagged_prompt_stops_the_run_naming_scene_and_category(fake):
    fake.flag = {"gory": "violence/graphic"}
    with pytest.raises(ConfigError) as caught:
        moderate_script(SCRIPT, Settings(), http_client=fake.client())

    assert str(caught.value).startswith("Scene 2: OpenAI moderation flagged the first-frame prompt (violence/graphic)")
    assert caught.value.scene == 2 and caught.value.step == "moderation" and "\n" not in str(caught.value)
    (body,) = fake.bodies("/moderations")
    assert body["model"] == "omni-moderation-latest"
    assert body["input"] == [
        "Octopuses hide in plain sight.",
        "an octopus on a reef",
        "slow push in",
        "They change colour in a blink.",
        "a gory shark attack",
        "camera shakes",
    ]


def test_clean_prompts_pass_in_one_request(fake):
    check = moderate_script(SCRIPT, Settings(), http_client=fake.client())
    assert check.checked == 6 and check.skipped is None and fake.paths() == ["/moderations"]


def test_the_check_can_be_turned_off_and_needs_a_key(fake, monkeypatch):
    monkeypatch.setenv("SHORTS_OPENAI_MODERATION", "false")
    assert moderate_script(SCRIPT, Settings(), http_client=fake.client()).skipped == "SHORTS_OPENAI_MODERATION is off"
    monkeypatch.delenv("SHORTS_OPENAI_MODERATION")
    monkeypatch.delenv("OPENAI_API_KEY")
    assert moderate_script(SCRIPT, Settings(), http_client=fake.client()).skipped == "no OPENAI_API_KEY"
    assert fake.calls == []


def test_a_server_without_moderation_says_which_setting_to_turn_off(fake):
    fake.failures["/moderations"] = [error(404, "Not Found")]
    with pytest.raises(ConfigError, match="SHORTS_OPENAI_MODERATION=false"):
        moderate_script(SCRIPT, Settings(), http_client=fake.client())
