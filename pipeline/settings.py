"""The one place that reads the environment (and `.env`), when `Settings()` is built."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import AliasChoices, AwareDatetime, BaseModel, Field, SecretStr, field_validator
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import remember_secrets
from pipeline.loudness import DUCKED_VOLUME, MASTER_LUFS, MUSIC_VOLUME
from pipeline.models import BREATH, VideoFormat
from pipeline.state.home import Home

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOME = Path("~/.shorts")
RETIRED_RUNWARE_MODELS = {"klingai:5@3": "KlingAI 2.1 Master"}  # gone from Runware's model list (runware-sdk 1.8.0)
# Timing and server-address knobs (mostly so tests can aim at fakes): the README lists them apart, as advanced.
ADVANCED: JsonDict = {"advanced": True}
Section = TypeVar("Section", bound=BaseModel)


class CoreSettings(BaseModel):
    """Where things go, the video format, and which provider each step uses."""

    home: Path = Field(
        DEFAULT_HOME,
        description="The asset store (assets/), Prefect result records (prefect-results/), the ledger and the outbox.",
    )
    output_dir: Path = Field(Path("out"), description="Each Short gets a folder here.")
    outbox_dir: Path | None = Field(None, description="Where publish drops packages; default HOME/outbox.")
    width: int = Field(720, ge=16, le=2160, description="Video width in pixels (at most 2160).")
    height: int = Field(1280, ge=16, le=3840, description="Video height in pixels (at most 3840).")
    fps: int = Field(24, ge=1, le=120, description="Frames per second.")
    script_provider: str = Field("auto", description="Script provider when no --script is given.")
    image_provider: str = Field("auto", description="First-frame provider when no --image is given.")
    video_provider: str = Field("auto", description="Clip provider when no --video is given.")
    voice_provider: str = Field("auto", description="Narration provider when no --voice is given.")
    prefect_startup_timeout: int = Field(
        240, ge=30, description="Seconds to wait for Prefect's local server.", json_schema_extra=ADVANCED
    )
    server_idle_minutes: float = Field(
        60, gt=0, description="The background Prefect server `shorts make` starts stops after this long unused."
    )


class RenderSettings(BaseModel):
    """How the final video is encoded and what plays under the voice."""

    music: str = Field(
        "auto",
        min_length=1,
        description="Music under the voice (like --music): auto (a track of the script's mood "
        "from the immich-memories-music library), none, a mood (calm, energetic, happy, nostalgic, tender), or a file "
        "or folder of your own (a folder's subfolder named for the mood is preferred).",
    )
    music_volume: float = Field(
        MUSIC_VOLUME,
        ge=0,
        le=1,
        description="Music gain where nobody speaks, the music's loudest 3 s taken as loud as the voice.",
    )
    music_ducked_volume: float = Field(
        DUCKED_VOLUME, ge=0, le=1, description="Music gain under the voice (0.1 keeps the voice about 20 dB above it)."
    )
    loudness: float = Field(
        MASTER_LUFS,
        ge=-36,
        le=-6,
        description="Integrated loudness (LUFS) the soundtrack is "
        "mastered to, its true peak at most -1 dBTP; -14 is what YouTube plays at, so louder "
        "would be turned down.",
    )
    render_preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
    ] = Field("veryfast", description="x264 preset of the final encode.")
    render_crf: int = Field(23, ge=0, le=51, description="x264 quality (lower is better and bigger).")
    render_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 2, ge=1, description="Encoder threads; default the CPU count."
    )
    scene_breath: float = Field(
        BREATH,
        ge=0,
        le=0.5,
        description="Seconds of pause after each scene's last word (0.2-0.35 sounds natural); "
        "the next scene's first word follows it.",
    )


class SharedStateSettings(BaseModel):
    """State that several machines share (README "Scaling out")."""

    database_url: SecretStr | None = Field(
        None,
        description="postgresql://... puts the ledger, topic queue, uploads and locks on a shared Postgres; "
        "default the SQLite file HOME/ledger.sqlite.",
    )
    store_url: str | None = Field(
        None,
        pattern=r"^(s3://[^/]+.*)?$",
        description="s3://bucket/prefix keeps assets and Prefect's result records "
        "in object storage (AWS_* variables, AWS_ENDPOINT_URL for other S3 servers); default HOME.",
    )


class ScheduleSettings(BaseModel):
    """The daily runs and the server that schedules them."""

    niche: str | None = Field(
        None, max_length=200, description="The channel's niche; topics are brainstormed for it when the queue is dry."
    )
    daily_count: int = Field(1, ge=1, le=50, description="Shorts each daily run makes.")
    daily_upload: bool = Field(False, description="Daily runs upload to YouTube (else they go to the outbox).")
    daily_cron: str = Field(
        "0 9 * * *",
        description="When the daily deployment runs (cron: minute hour day month weekday, in SHORTS_TIMEZONE).",
    )
    timezone: str | None = Field(
        None, description="IANA zone of the daily schedule, e.g. Europe/Berlin; default the machine's, else UTC."
    )
    prefect_port: int = Field(4200, ge=1, le=65535, description="Port of the Prefect server `shorts serve` starts.")
    server_public_url: str | None = Field(
        None,
        pattern=r"^https://[^/]+/?$",
        description="The https:// address a reverse proxy of your own (TLS, its "
        "own login) serves our Prefect servers' UI at; they then also answer to that host and origin. Default: only "
        "127.0.0.1 and localhost.",
    )
    learn: bool = Field(
        True,
        description="Daily runs read the channel's stats (`shorts stats`) and feed what worked into the topic "
        "order, the brainstorm and the script prompt; false turns the loop off.",
    )
    learn_min_days: int = Field(7, ge=1, le=28, description="A Short counts for the learnings from this age (days).")
    learn_min_engaged_views: int = Field(
        100, ge=0, description="A Short counts for the learnings once YouTube reports this many engaged views."
    )


class ReviewSettings(BaseModel):
    """Looking at the storyboard before any clip is bought."""

    review: bool = Field(False, description="Show the storyboard and ask before any clip is bought (like --review).")
    review_timeout_hours: float = Field(24.0, gt=0, description="A run paused for review is cancelled after this.")
    review_poll_seconds: float = Field(
        5.0,
        gt=0,
        le=60,
        description="How often a run paused for review checks whether it was answered.",
        json_schema_extra=ADVANCED,
    )
    auto_approve_credits: float | None = Field(
        None,
        ge=0,
        description="Daily runs buy clips without asking when estimated at most this; above, they pause "
        "for review. Empty: every daily Short is approved (the credit caps still apply).",
    )


class YouTubeSettings(BaseModel):
    """Uploading to YouTube."""

    youtube_channel: str = Field("main", description="Channel (token name) to upload to; see `shorts auth youtube`.")
    youtube_category_id: str = Field(
        "22",
        pattern=r"^\d+$",
        description="YouTube category id: 22 People & Blogs, 27 Education, 28 Science & Technology.",
    )
    youtube_privacy: str = Field(
        "private", pattern=r"^(private|unlisted|public)$", description="private, unlisted or public."
    )
    youtube_publish_at: AwareDatetime | None = Field(
        None,
        description="Schedule publishing, e.g. 2030-01-31T18:00:00+01:00: a future time with a zone; needs "
        "privacy private (YouTube makes the video public then).",
    )
    youtube_made_for_kids: bool = Field(False, description="Declare the Short made for kids; always sent to YouTube.")
    youtube_thumbnail: bool = Field(
        True,
        description="Set a custom thumbnail (the first frame with the title, a 1080x1920 JPEG) once YouTube has "
        "processed the Short; false skips it.",
    )
    youtube_api_url: str | None = Field(
        None, description="A YouTube-compatible server (e.g. a fake); default Google.", json_schema_extra=ADVANCED
    )
    youtube_analytics_api_url: str | None = Field(
        None,
        description="A YouTube Analytics-compatible server (e.g. a fake) for `shorts stats`; default Google.",
        json_schema_extra=ADVANCED,
    )


class PostingSettings(BaseModel):
    """Posting the finished Short to Instagram Reels, Facebook Page Reels and TikTok (README "Posting to Instagram,
    Facebook and TikTok")."""

    post: str = Field(
        "",
        pattern=r"^[a-z, ]*$",
        description="Where `shorts make` and daily runs post each Short when no --post is "
        "given: a comma-separated list of youtube, instagram, facebook, tiktok; empty: none (the outbox, or YouTube "
        "with --upload).",
    )
    meta_graph_url: str = Field(
        "https://graph.facebook.com",
        description="Meta's Graph API (Facebook Login: Instagram and Facebook Pages), or a compatible server (a fake).",
        json_schema_extra=ADVANCED,
    )
    instagram_graph_url: str = Field(
        "https://graph.instagram.com",
        description="The Instagram Graph API host of tokens made with Instagram "
        "Login (SHORTS_INSTAGRAM_LOGIN=instagram).",
        json_schema_extra=ADVANCED,
    )
    meta_graph_version: str = Field("v26.0", pattern=r"^v\d+\.\d+$", description="Graph API version in each URL.")
    instagram_login: Literal["facebook", "instagram"] = Field(
        "facebook",
        description="How the Instagram token was made: facebook (Facebook Login for Business, "
        "graph.facebook.com; uploads the local file) or instagram (Instagram Login, graph.instagram.com; Instagram "
        "fetches the video from a 6-hour link into SHORTS_STORE_URL, which it needs).",
    )
    instagram_access_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("INSTAGRAM_ACCESS_TOKEN"),
        description="A token allowed "
        "instagram_content_publish for the account (else the one `shorts auth instagram` stored).",
    )
    instagram_user_id: str | None = Field(
        None, validation_alias=AliasChoices("INSTAGRAM_USER_ID"), description="The Instagram professional account's id."
    )
    instagram_share_to_feed: bool = Field(True, description="Show the Reel in the profile's feed grid too.")
    facebook_page_access_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("FACEBOOK_PAGE_ACCESS_TOKEN"),
        description="A Page token with pages_manage_posts (else the one `shorts auth facebook` stored).",
    )
    facebook_page_id: str | None = Field(
        None, validation_alias=AliasChoices("FACEBOOK_PAGE_ID"), description="The Facebook Page's id."
    )
    tiktok_api_url: str = Field(
        "https://open.tiktokapis.com", description="TikTok's API, or a compatible server.", json_schema_extra=ADVANCED
    )
    tiktok_access_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("TIKTOK_ACCESS_TOKEN"),
        description="A user token with video.upload "
        "(and video.publish for direct posts); once refreshed, the stored one (HOME/tiktok/token.json) wins.",
    )
    tiktok_refresh_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("TIKTOK_REFRESH_TOKEN"),
        description="Refreshes an expired access "
        "token; TikTok rotates it, and the new one is stored in HOME/tiktok/token.json (0600).",
    )
    tiktok_client_key: str | None = Field(
        None,
        validation_alias=AliasChoices("TIKTOK_CLIENT_KEY"),
        description="Your TikTok app's client key (for the refresh).",
    )
    tiktok_client_secret: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("TIKTOK_CLIENT_SECRET"),
        description="Your TikTok app's client secret (for the refresh).",
    )
    tiktok_mode: Literal["inbox", "direct"] = Field(
        "inbox",
        description="inbox: a draft in the creator's TikTok inbox, finished in the app (any app); direct: "
        "posted at once (an app TikTok has audited; else private only).",
    )
    tiktok_privacy: str | None = Field(
        None,
        description="Direct posts: who sees it, one of the creator's options (PUBLIC_TO_EVERYONE, "
        "MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR, SELF_ONLY); no default, as TikTok asks.",
    )
    post_poll_seconds: float = Field(
        5.0, gt=0, description="Between checks of a post being processed.", json_schema_extra=ADVANCED
    )
    post_wait_minutes: float = Field(
        10.0,
        gt=0,
        description="How long a run waits for one platform to process a post; then it says so and a "
        "rerun resumes the wait.",
        json_schema_extra=ADVANCED,
    )


class OpenAISettings(BaseModel):
    """OpenAI, or any OpenAI-compatible server: scripts, first frames, speech, moderation."""

    openai_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY"), description="Your OpenAI key."
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("OPENAI_BASE_URL"),
        description="An OpenAI-compatible server (Ollama, vLLM, LM Studio, ...).",
    )
    openai_script_model: str = Field("gpt-5.4-mini", description="Writes the script (one repair round).")
    openai_image_model: str = Field("gpt-image-2", description="Draws the first frames.")
    openai_image_size: str | None = Field(
        None,
        description="Size asked of the image model, then fitted to WIDTHxHEIGHT; default a 9:16 it accepts "
        "(1152x2048 for gpt-image-2, else 1024x1536).",
    )
    openai_image_quality: str = Field("medium", description="low, medium, high or auto (auto sends none).")
    openai_image_usd: float | None = Field(
        None,
        ge=0,
        description="Dollars one first frame costs, for the estimate, the caps and the ledger; default "
        "OpenAI's list price for the model and quality as of December 2026 (gpt-image-2 at 1152x2048: $0.03 low, "
        "$0.11 medium, $0.29 high or auto); set it for another model, size or a compatible server (0 when free).",
    )
    openai_voice_model: str = Field(
        "gpt-4o-mini-tts",
        description="Speech model of --voice openai (OpenAI shuts every speech model down on "
        "2027-01-06; `auto` no longer picks this voice).",
    )
    openai_voice: str = Field("coral", description="Voice when the request names none.")
    openai_voice_speed: float = Field(1.0, ge=0.25, le=4.0, description="Speaking speed.")
    openai_voice_instructions: str = Field(
        "Warm, lively storyteller; clear diction; short natural pauses between sentences.",
        description="Delivery instructions (gpt-4o-mini-tts and later; ignored by tts-1).",
    )
    openai_transcribe_model: str = Field("whisper-1", description="Must give word timestamps (verbose_json).")
    # OpenAI's speech models shut down on 2027-01-06 and whisper-1 on 2027-02-26: captions must not depend on it.
    openai_word_timings: bool = Field(
        False,
        description="Time captions from a transcript of the narration (SHORTS_OPENAI_TRANSCRIBE_MODEL, "
        "billed); off, the words are placed on the pauses heard in the audio.",
    )
    openai_moderation: bool = Field(True, description="Check prompts with the moderation endpoint first.")
    openai_moderation_model: str = Field("omni-moderation-latest", description="The free moderation model.")
    openai_timeout: float = Field(
        120.0,
        gt=0,
        description="Seconds per OpenAI request (at most 10 of them to connect).",
        json_schema_extra=ADVANCED,
    )
    openai_max_retries: int = Field(
        3,
        ge=0,
        description="SDK retries of a script, moderation or model-list request, on 408, 409, 429, 5xx, "
        "timeouts and connection errors (none for paid media: see SHORTS_OPENAI_MEDIA_TIMEOUT).",
        json_schema_extra=ADVANCED,
    )
    # Paid media (first frames, speech): one image can take minutes, and is billed once made.
    openai_media_timeout: float = Field(
        600.0,
        gt=0,
        description="Seconds to wait for one image (or speech) answer, at most 10 of them to connect; "
        "such paid requests get no SDK retries and are sent again only after a 429 that is not an empty quota, or a "
        "connection that never opened.",
        json_schema_extra=ADVANCED,
    )


class OllamaSettings(BaseModel):
    """A local LLM that `auto` writes the script with when no key is set."""

    # OLLAMA_HOST is Ollama's own variable.
    ollama_host: str | None = Field(
        None,
        validation_alias=AliasChoices("OLLAMA_HOST"),
        description="Where Ollama listens (host:port or URL); default 127.0.0.1:11434.",
    )
    ollama_model: str | None = Field(
        None,
        description="Ollama chat model for the script (installed with `ollama pull`); default the first installed.",
    )
    ollama_probe_seconds: float = Field(
        0.4, gt=0, le=10, description="How long `auto` waits for Ollama to answer.", json_schema_extra=ADVANCED
    )
    ollama_timeout: float = Field(
        600.0, gt=0, description="Seconds per Ollama request (a local model can be slow).", json_schema_extra=ADVANCED
    )


class RunwaySettings(BaseModel):
    """Runway: image-to-video clips, first frames and narration, billed in credits."""

    # RUNWAY_API_KEY is what older setups used; RUNWAYML_API_SECRET is the SDK's own name and wins.
    runwayml_api_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("RUNWAYML_API_SECRET", "RUNWAY_API_KEY"), description="Your Runway key."
    )
    runwayml_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("RUNWAYML_BASE_URL"),
        description="A Runway-compatible server (its root, without /v1); default Runway's API.",
        json_schema_extra=ADVANCED,
    )
    runway_video_model: Literal["gen4_turbo", "gen4.5", "veo3.1", "veo3.1_fast"] = Field(
        "gen4_turbo",
        description="Image-to-video model: gen4_turbo, gen4.5, veo3.1 or veo3.1_fast (all accept 720:1280).",
    )
    runway_image_model: Literal["gen4_image"] = Field("gen4_image", description="Text-to-image model.")
    runway_reference_first_frame: bool = Field(
        False, description="Give later scenes' first frames the first scene's frame as a reference image."
    )
    runway_deadline_minutes: float = Field(
        15.0,
        gt=0,
        description="Per task; then it is cancelled if Runway has not started it, else left to finish for "
        "the next run.",
        json_schema_extra=ADVANCED,
    )
    runway_poll_seconds: float = Field(
        5.0, gt=0, description="Between status checks; Runway asks for 5 or more.", json_schema_extra=ADVANCED
    )
    runway_concurrency: int | None = Field(
        None, ge=1, description="Tasks in flight per model; default the tier's limit, else 2."
    )
    runway_limit: str | None = Field(
        None, description="A Prefect global concurrency limit held around each Runway task, shared by all workers."
    )
    runway_resubmit_unconfirmed: bool = Field(
        False, description="Submit again a task whose creation was never confirmed (it may have been billed)."
    )
    runway_voice_model: Literal["eleven_multilingual_v2", "eleven_v3", "eleven_v4"] = Field(
        "eleven_multilingual_v2",
        description="Text-to-speech model of --voice runway (ElevenLabs voices billed in "
        "Runway credits): eleven_multilingual_v2, eleven_v3 or eleven_v4.",
    )
    runway_voice: str = Field(
        "Maya", description="Runway preset voice when the request names none (`shorts voices --provider runway`)."
    )
    runway_voice_credits_per_50_characters: float = Field(
        1.0,
        gt=0,
        description="What Runway's speech costs, for estimates: about 1 credit per 50 characters (December "
        "2026, a secondary source); each task's own cost is what the ledger records.",
    )
    runway_voice_deadline_minutes: float = Field(
        5.0,
        gt=0,
        description="Per scene's speech task; then it is cancelled if Runway has not started it, else left "
        "to finish for the next run.",
        json_schema_extra=ADVANCED,
    )
    max_credits_per_short: float = Field(200.0, ge=0, description="Refuse a Short estimated above this.")
    max_credits_per_day: float = Field(1000.0, ge=0, description="Refuse tasks past this in any 24 hours.")


class RunwareSettings(BaseModel):
    """Runware: image-to-video clips, billed in dollars."""

    runware_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("RUNWARE_API_KEY"), description="Your Runware key."
    )
    runware_base_url: str = Field(
        "https://api.runware.ai/v1",
        validation_alias=AliasChoices("RUNWARE_BASE_URL"),
        description="A Runware-compatible server: the URL tasks are POSTed to.",
        json_schema_extra=ADVANCED,
    )
    runware_video_model: Literal["klingai:6@1", "runway:1@2"] = Field(
        "klingai:6@1",
        description="Image-to-video model (AIR id): klingai:6@1 (Kling 2.5 Turbo Pro, 1080x1920) or "
        "runway:1@2 (Runway Gen-4.5 at 720x1280, 5/8/10 s).",
    )
    runware_deadline_minutes: float = Field(
        20.0,
        gt=0,
        description="Per task; then the run stops waiting on it (a rerun resumes it).",
        json_schema_extra=ADVANCED,
    )
    runware_poll_seconds: float = Field(
        2.0, gt=0, description="First pause before checking a task, then x1.5.", json_schema_extra=ADVANCED
    )
    runware_max_poll_seconds: float = Field(
        10.0, gt=0, description="Longest pause between checks of a task.", json_schema_extra=ADVANCED
    )
    runware_concurrency: int = Field(2, ge=1, description="Runware tasks in flight per model.")
    runware_unconfirmed_wait_seconds: float = Field(
        180.0,
        ge=0,
        description="How long a task whose submission was never confirmed is looked for before it counts "
        "as never made (and is submitted again).",
        json_schema_extra=ADVANCED,
    )
    max_usd_per_short: float = Field(10.0, ge=0, description="Refuse a Short whose dollar-billed steps cost more.")
    max_usd_per_day: float = Field(50.0, ge=0, description="Refuse dollar-billed tasks past this in any 24 hours.")

    @field_validator("runware_video_model", mode="before")
    @classmethod
    def _runware_model_served(cls, value: object) -> object:
        if value in RETIRED_RUNWARE_MODELS:
            raise ValueError(
                f"{value} ({RETIRED_RUNWARE_MODELS[value]}) is no longer offered by Runware; set "
                "SHORTS_RUNWARE_VIDEO_MODEL to klingai:6@1 (Kling 2.5 Turbo Pro) or runway:1@2"
            )
        return value


class ElevenLabsSettings(BaseModel):
    """ElevenLabs: narration billed by the character, with each character's time (so exact word captions)."""

    elevenlabs_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("ELEVENLABS_API_KEY"), description="Your ElevenLabs key."
    )
    elevenlabs_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("ELEVENLABS_BASE_URL"),
        description="An ElevenLabs-compatible server; default the SDK's.",
        json_schema_extra=ADVANCED,
    )
    elevenlabs_model: str = Field(
        "eleven_multilingual_v2",
        description="Text-to-speech model, e.g. "
        "eleven_multilingual_v2, eleven_v3, eleven_v4, or eleven_flash_v2_5 and "
        "eleven_v4_turbo (half the characters).",
    )
    elevenlabs_voice: str = Field(
        "JBFqnCBsd6RMkjVDRZzb",
        description="Voice id or name when the request names "
        "none (`shorts voices --provider elevenlabs`); default George.",
    )
    elevenlabs_timeout: float = Field(
        180.0, gt=0, description="Seconds to wait for one scene's speech.", json_schema_extra=ADVANCED
    )
    max_characters_per_short: float = Field(
        3000.0,
        ge=0,
        description="Refuse a Short whose narration is billed more characters than this, up front or between scenes.",
    )
    max_characters_per_day: float = Field(
        30000.0, ge=0, description="Refuse narration past this many billed characters in any 24 hours."
    )


class EdgeSettings(BaseModel):
    """Microsoft Edge's online voices (edge-tts): free, no key, an unofficial client of a consumer service."""

    edge_voice: str = Field(
        "en-US-EmmaMultilingualNeural",
        description="Edge voice when the request names none (`shorts voices --provider edge`).",
    )
    edge_url: str | None = Field(
        None,
        description="The WebSocket URL Edge speech is asked at (a compatible server "
        "or a fake); default edge-tts's own.",
        json_schema_extra=ADVANCED,
    )
    edge_voices_url: str | None = Field(
        None, description="The URL Edge's voice list is read from; default edge-tts's own.", json_schema_extra=ADVANCED
    )


class StockSettings(BaseModel):
    """Free stock footage (Pexels, Pixabay): each scene's clip is found by its search terms."""

    pexels_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("PEXELS_API_KEY"), description="A free key from pexels.com/api."
    )
    pexels_base_url: str = Field(
        "https://api.pexels.com",
        validation_alias=AliasChoices("PEXELS_BASE_URL"),
        description="A Pexels-compatible server: the root /videos/search hangs off.",
        json_schema_extra=ADVANCED,
    )
    pixabay_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("PIXABAY_API_KEY"), description="A free key from pixabay.com/api/docs."
    )
    pixabay_base_url: str = Field(
        "https://pixabay.com/api",
        validation_alias=AliasChoices("PIXABAY_BASE_URL"),
        description="A Pixabay-compatible server: the root /videos/ hangs off.",
        json_schema_extra=ADVANCED,
    )
    stock_min_width: int = Field(720, ge=64, description="Narrowest stock clip accepted, in pixels.")
    stock_per_page: int = Field(20, ge=3, le=80, description="Search results read per query.")
    stock_timeout: float = Field(
        60.0, gt=0, description="Seconds per stock search or download request.", json_schema_extra=ADVANCED
    )


class SourceSettings(BaseModel):
    """Facts and free pictures from Wikipedia and Wikimedia Commons (README "Facts from Wikipedia")."""

    source: Literal["wikipedia", "none"] = Field(
        "wikipedia",
        description="Where the script's facts come from when no --source is given: wikipedia (the "
        "best matching article in the request's language, its lead given to an LLM or, with no LLM, read out) or "
        "none.",
    )
    wikipedia_url: str = Field(
        "https://{language}.wikipedia.org",
        pattern=r"^https?://\S+$",
        description="The Wikipedia whose Action API "
        "(/w/api.php) is asked; {language} becomes the request's language (its primary tag).",
        json_schema_extra=ADVANCED,
    )
    wikipedia_timeout: float = Field(
        5.0,
        gt=0,
        le=60,
        description="Seconds per Wikipedia request; the first that fails ends the search, and the "
        "Short is made without a source.",
        json_schema_extra=ADVANCED,
    )


# The sections, in the order the README documents them; `Settings` is all of them at once.
SECTIONS: dict[str, type[BaseModel]] = {
    "core": CoreSettings,
    "render": RenderSettings,
    "shared state": SharedStateSettings,
    "schedule": ScheduleSettings,
    "review": ReviewSettings,
    "youtube": YouTubeSettings,
    "posting": PostingSettings,
    "openai": OpenAISettings,
    "ollama": OllamaSettings,
    "runway": RunwaySettings,
    "runware": RunwareSettings,
    "elevenlabs": ElevenLabsSettings,
    "edge": EdgeSettings,
    "stock": StockSettings,
    "source": SourceSettings,
}


class Settings(
    BaseSettings,
    SourceSettings,
    StockSettings,
    EdgeSettings,
    ElevenLabsSettings,
    RunwareSettings,
    RunwaySettings,
    OllamaSettings,
    OpenAISettings,
    PostingSettings,
    YouTubeSettings,
    ReviewSettings,
    ScheduleSettings,
    SharedStateSettings,
    RenderSettings,
    CoreSettings,
):
    """Every setting, read from the environment (prefix SHORTS_, or the vendors' own variables) and `.env`."""

    model_config = SettingsConfigDict(env_prefix="SHORTS_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    def model_post_init(self, context: Any) -> None:
        # Every key read is kept out of error messages from here on, whichever vendor echoes it back.
        remember_secrets(
            *(value.get_secret_value() for value in self.__dict__.values() if isinstance(value, SecretStr))
        )

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

    @property
    def paths(self) -> Home:
        """Every path under SHORTS_HOME."""
        return Home(self.home_dir)

    @property
    def outbox(self) -> Path:
        return self.outbox_dir.expanduser() if self.outbox_dir else self.paths.outbox

    @property
    def video_format(self) -> VideoFormat:
        return VideoFormat(width=self.width, height=self.height, fps=self.fps)

    def section(self, model: type[Section]) -> Section:
        """The settings `model` declares (a section, or a provider's own few), already validated: what a provider or
        step is given instead of all of them."""
        return model.model_construct(**{name: getattr(self, name) for name in model.model_fields})

    def has_key(self, env_var: str) -> bool:
        """Whether the key named by a vendor's own variable is set (without revealing it)."""
        secret = getattr(self, _KEY_FIELDS[env_var])
        return bool(secret and secret.get_secret_value())


def key_variable(field: str) -> str:
    """The vendor's own variable a key setting is read from (its first alias): the one place each is spelled."""
    alias = Settings.model_fields[field].validation_alias
    assert isinstance(alias, AliasChoices), f"{field} is not read from a vendor's variable"
    return str(alias.choices[0])


# Each key's variable -> its setting, for `has_key`.
_KEY_FIELDS = {
    key_variable(name): name
    for name, field in Settings.model_fields.items()
    if field.annotation == SecretStr | None and field.validation_alias
}


def default(name: str) -> Any:
    """A setting's default, for a provider or the render options built without settings (tests, benchmarks): the one
    place it is written."""
    return Settings.model_fields[name].get_default(call_default_factory=True)
