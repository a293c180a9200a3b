"""YouTube metadata from the script: every limit is met (fixed with a warning) or refused before any upload."""

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pipeline import ConfigError, Scene, Script
from pipeline.publish.youtube_metadata import (
    DESCRIPTION_MAX_BYTES,
    TAGS_MAX_CHARS,
    build_metadata,
    fit_tags,
    shorten_for_youtube,
    tags_length,
)

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
SCENE = Scene(
    index=1,
    narration="Octopuses see with their skin.",
    first_frame_prompt="an octopus on coral",
    motion_prompt="slow push in",
    seconds=5,
)


def script(**changes) -> Script:
    values = dict(
        title="Octopus camouflage",
        description="How octopuses vanish.",
        tags=["octopus", "ocean life"],
        hook="Blink and it is gone.",
        scenes=[SCENE],
    )
    return Script.model_construct(**{**values, **changes})  # model_construct: scripts the model itself would refuse


def test_a_plain_script_becomes_the_exact_body():
    body = build_metadata(script(), "en", now=NOW).body()
    assert body == {
        "snippet": {
            "title": "Octopus camouflage",
            "description": "How octopuses vanish.",
            "tags": ["octopus", "ocean life"],
            "categoryId": "22",
            "defaultLanguage": "en",
            "defaultAudioLanguage": "en",
        },
        "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": False, "containsSyntheticMedia": True},
    }


def test_a_schedule_is_sent_in_utc():
    at = datetime(2030, 1, 2, 18, 30, tzinfo=timezone(timedelta(hours=2)))
    body = build_metadata(script(), "pt-BR", category_id="27", publish_at=at, made_for_kids=True, now=NOW).body()
    assert body["status"] == {
        "privacyStatus": "private",
        "publishAt": "2030-01-02T16:30:00Z",
        "selfDeclaredMadeForKids": True,
        "containsSyntheticMedia": True,
    }
    assert body["snippet"]["categoryId"] == "27" and body["snippet"]["defaultLanguage"] == "pt-BR"


@pytest.mark.parametrize(
    ("privacy", "at", "expected"),
    [
        ("private", NOW - timedelta(minutes=1), "is in the past; set a future time"),
        ("public", NOW + timedelta(days=1), "needs SHORTS_YOUTUBE_PRIVACY=private (it is public)"),
        ("private", datetime(2030, 2, 1), "has no time zone"),
    ],
)
def test_a_bad_schedule_is_refused_in_one_sentence(privacy, at, expected):
    with pytest.raises(ConfigError) as caught:
        build_metadata(script(), "en", privacy=privacy, publish_at=at, now=NOW)
    message = str(caught.value)
    assert expected in message and "SHORTS_YOUTUBE_PUBLISH_AT" in message
    assert message.endswith(".") and "\n" not in message


def test_a_long_title_is_cut_on_a_word_boundary_and_the_run_says_so(caplog):
    title = "The astonishing secret lives of octopuses " * 4  # 168 characters, 167 once stripped
    with caplog.at_level(logging.WARNING, logger="shorts"):
        cut = build_metadata(script(title=title), "en", now=NOW).title
    assert len(cut) <= 100 and cut.endswith("…")
    assert title.startswith(cut[:-1]) and title[len(cut) - 1] == " "  # it stopped before a space, not inside a word
    assert "title cut from 167 to" in caplog.text


def test_angle_brackets_are_removed_from_title_and_description(caplog):
    with caplog.at_level(logging.WARNING, logger="shorts"):
        meta = build_metadata(script(title="<b>Octopus</b> tricks", description="a -> b <script>"), "en", now=NOW)
    assert meta.title == "bOctopus/b tricks" and "<" not in meta.description and ">" not in meta.description
    assert "does not allow < or >" in caplog.text


def test_a_title_of_only_brackets_is_refused():
    with pytest.raises(ConfigError, match="title is empty"):
        build_metadata(script(title="<>"), "en", now=NOW)


def test_the_description_limit_is_counted_in_utf8_bytes():
    description = "très " * 1500  # 7500 characters, 9000 bytes
    cut = build_metadata(script(description=description), "en", now=NOW).description
    assert len(cut.encode("utf-8")) <= DESCRIPTION_MAX_BYTES < len(cut.encode("utf-8")) + len("très …".encode())
    assert cut.endswith("très…")


def test_one_word_longer_than_the_limit_is_cut_inside_it():
    assert shorten_for_youtube("x" * 20, 10) == "x" * 9 + "…"


def test_tags_are_counted_the_youtube_way():
    # commas between tags count, and a tag with a space counts as if it were quoted
    assert tags_length(["a", "bc", "d e"]) == 1 + 2 + (3 + 2) + 2
    assert tags_length([]) == 0


def test_tags_are_cleaned_and_cut_to_500_characters(caplog):
    tags = ["Octopus", "octopus", " ocean  life ", "", "a<b>", "x,y"] + [f"tag number {i}" for i in range(60)]
    with caplog.at_level(logging.WARNING, logger="shorts"):
        kept = fit_tags(tags)
    assert kept[:4] == ["Octopus", "ocean life", "a b", "x y"]
    assert tags_length(kept) <= TAGS_MAX_CHARS < tags_length([*kept, f"tag number {len(kept) - 4}"])
    assert "tags cut to" in caplog.text


def test_a_language_youtube_would_refuse_is_left_out(caplog):
    with caplog.at_level(logging.WARNING, logger="shorts"):
        body = build_metadata(script(), "english please", now=NOW).body()
    assert "defaultLanguage" not in body["snippet"] and "not a code like en" in caplog.text
