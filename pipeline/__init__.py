"""shorts' library: the steps as plain functions over pydantic models. It never imports Prefect."""

from pipeline.analytics.learn import topic_preference
from pipeline.analytics.models import Learnings, ShortStats, StatsReport
from pipeline.analytics.report import COLUMNS as STATS_COLUMNS
from pipeline.analytics.report import LEGEND as STATS_LEGEND
from pipeline.analytics.report import draw_chart, row_cells, text_table
from pipeline.analytics.stats import channel_stats
from pipeline.analytics.studio import import_studio_csv
from pipeline.analytics.variety import NearCopy, near_copy, recent_scripts
from pipeline.clips import animate_scene
from pipeline.errors import ConfigError, ProviderError, RenderError, ShortsError, disk_error, redact
from pipeline.footage import describe_pick, footage_credits, footage_line, pick_footage
from pipeline.frames import make_first_frame
from pipeline.models import (
    ClipAsset,
    Footage,
    FrameAsset,
    Narration,
    ProviderChoice,
    Published,
    RenderedShort,
    Scene,
    ScenePlan,
    Script,
    ShortRequest,
    ShortResult,
    Speech,
    VideoFormat,
    WordTiming,
    provider_names,
)
from pipeline.moderation import ModerationCheck, moderate_script
from pipeline.music import MusicTrack, check_music, choose_music
from pipeline.narration import narrate
from pipeline.package import (
    Manifest,
    package_version,
    prepare_output_dir,
    record_upload,
    short_folder,
    slug,
    write_package,
)
from pipeline.preflight import check_providers
from pipeline.providers import (
    build_provider,
    check_budget,
    choose_providers,
    estimate_characters,
    estimate_credits,
    estimate_usd,
    is_paid,
    picks_footage,
)
from pipeline.providers.offline.voice import offline_voices
from pipeline.providers.ollama.client import describe_ollama
from pipeline.providers.paid.inflight import cancel_in_flight
from pipeline.providers.runway.client import runway_account
from pipeline.publish.crosspost import (
    Platform,
    PostOutcome,
    authorize_platform,
    check_post_ready,
    describe_platform,
    parse_platforms,
    post_everywhere,
)
from pipeline.publish.step import check_upload_ready, publish, publish_to_outbox, publish_to_youtube
from pipeline.publish.youtube_auth import authorize_youtube, has_youtube_token
from pipeline.publish.youtube_metadata import with_credits
from pipeline.render.captions import CaptionStyle
from pipeline.render.short import RenderOptions, render_short
from pipeline.script import plan_script, write_script
from pipeline.settings import Settings
from pipeline.source import Source, find_source, scene_pictures, used_source
from pipeline.state.database import Database
from pipeline.state.home import check_free_space, make_private, private_home, private_secret
from pipeline.state.ledger import open_ledger
from pipeline.state.locks import AdvisoryLock, FileLock
from pipeline.state.store import AssetStore, DamagedAsset, file_digest, intact, open_store
from pipeline.state.takes import scene_takes
from pipeline.state.topics import (
    TopicStatus,
    add_topics,
    next_topics,
    nothing_to_make,
    queue_name,
    record_failed,
    record_made,
    topic_statuses,
    topics_file,
)
from pipeline.storyboard import Review, Storyboard, plan_storyboard, preview_uri, write_storyboard
from pipeline.voice_list import list_voices

__all__ = [
    "list_voices",
    "MusicTrack",
    "check_music",
    "choose_music",
    "AdvisoryLock",
    "Database",
    "FileLock",
    "describe_ollama",
    "offline_voices",
    "runway_account",
    "AssetStore",
    "CaptionStyle",
    "ClipAsset",
    "ConfigError",
    "FrameAsset",
    "Manifest",
    "ModerationCheck",
    "open_ledger",
    "open_store",
    "Narration",
    "ProviderChoice",
    "Speech",
    "ProviderError",
    "Published",
    "RenderError",
    "RenderOptions",
    "RenderedShort",
    "Scene",
    "Script",
    "Settings",
    "ShortRequest",
    "ShortResult",
    "ShortsError",
    "VideoFormat",
    "WordTiming",
    "disk_error",
    "redact",
    "DamagedAsset",
    "intact",
    "animate_scene",
    "build_provider",
    "choose_providers",
    "file_digest",
    "make_first_frame",
    "moderate_script",
    "narrate",
    "package_version",
    "prepare_output_dir",
    "publish_to_outbox",
    "render_short",
    "short_folder",
    "slug",
    "write_package",
    "write_script",
    "plan_script",
    "ScenePlan",
    "authorize_youtube",
    "check_upload_ready",
    "has_youtube_token",
    "publish",
    "publish_to_youtube",
    "record_upload",
    "cancel_in_flight",
    "check_budget",
    "check_providers",
    "is_paid",
    "estimate_characters",
    "estimate_credits",
    "estimate_usd",
    "TopicStatus",
    "add_topics",
    "next_topics",
    "nothing_to_make",
    "record_failed",
    "record_made",
    "topic_statuses",
    "topics_file",
    "queue_name",
    "Review",
    "Storyboard",
    "plan_storyboard",
    "preview_uri",
    "scene_takes",
    "write_storyboard",
    "Footage",
    "describe_pick",
    "footage_credits",
    "footage_line",
    "pick_footage",
    "picks_footage",
    "provider_names",
    "with_credits",
    "Source",
    "find_source",
    "scene_pictures",
    "used_source",
    "check_free_space",
    "make_private",
    "private_home",
    "private_secret",
    "Platform",
    "PostOutcome",
    "authorize_platform",
    "check_post_ready",
    "describe_platform",
    "parse_platforms",
    "post_everywhere",
    "Learnings",
    "ShortStats",
    "StatsReport",
    "channel_stats",
    "draw_chart",
    "import_studio_csv",
    "row_cells",
    "STATS_COLUMNS",
    "STATS_LEGEND",
    "text_table",
    "topic_preference",
    "NearCopy",
    "near_copy",
    "recent_scripts",
]
