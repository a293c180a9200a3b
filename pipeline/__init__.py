"""shorts' library: the steps as plain functions over pydantic models. It never imports Prefect."""

from pipeline.analytics.learn import topic_preference
from pipeline.analytics.models import Learnings, StatsReport
from pipeline.analytics.report import COLUMNS as STATS_COLUMNS
from pipeline.analytics.report import LEGEND as STATS_LEGEND
from pipeline.analytics.report import draw_chart, row_cells, text_table
from pipeline.analytics.stats import channel_stats
from pipeline.analytics.studio import import_studio_csv
from pipeline.analytics.variety import near_copy, recent_scripts
from pipeline.brainstorm import refill_queue
from pipeline.budget import check_budget, estimate_cost
from pipeline.clips import animate_scene
from pipeline.errors import ConfigError, ProviderError, RenderError, ShortsError, disk_error, redact
from pipeline.footage import describe_pick, footage_credits, footage_line, pick_footage
from pipeline.frames import make_first_frame
from pipeline.models import (
    ClipAsset,
    Cost,
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
    VideoFormat,
    WordTiming,
    provider_names,
)
from pipeline.moderation import ModerationCheck, moderate_script
from pipeline.music import check_music, choose_music
from pipeline.narration import narrate, no_voice_warning
from pipeline.package import (
    Manifest,
    build_manifest,
    package_version,
    prepare_output_dir,
    record_upload,
    short_folder,
    slug,
    write_package,
)
from pipeline.preflight import check_providers
from pipeline.providers import build_provider, choose_providers, is_paid, picks_footage, provider_spec
from pipeline.providers.base import Finding
from pipeline.providers.paid.inflight import cancel_in_flight
from pipeline.publish.crosspost import (
    Platform,
    PostOutcome,
    authorize_platform,
    check_post_ready,
    describe_platform,
    parse_platforms,
    post_everywhere,
)
from pipeline.publish.short import check_upload_ready, publish_short, publish_to_outbox
from pipeline.publish.youtube_auth import authorize_youtube, has_youtube_token
from pipeline.publish.youtube_metadata import with_credits
from pipeline.render.short import RenderOptions, render_short
from pipeline.script import plan_script, write_script
from pipeline.settings import Settings, key_variable
from pipeline.source import Source, find_source, scene_pictures, used_source
from pipeline.state.database import Database
from pipeline.state.home import check_free_space, make_private, private_home, private_secret
from pipeline.state.ledger import open_ledger
from pipeline.state.locks import AdvisoryLock, FileLock
from pipeline.state.store import AssetStore, DamagedAsset, file_digest, intact, open_store
from pipeline.state.takes import scene_takes
from pipeline.state.topics import (
    add_topics,
    next_topics,
    nothing_to_make,
    queue_name,
    record_failed,
    record_made,
    topic_statuses,
)
from pipeline.storyboard import Review, Storyboard, plan_storyboard, preview_uri, write_storyboard
from pipeline.voice_list import list_voices

__all__ = [
    "AdvisoryLock",
    "AssetStore",
    "ClipAsset",
    "ConfigError",
    "Cost",
    "DamagedAsset",
    "Database",
    "FileLock",
    "Finding",
    "Footage",
    "FrameAsset",
    "Learnings",
    "Manifest",
    "ModerationCheck",
    "Narration",
    "Platform",
    "PostOutcome",
    "ProviderChoice",
    "ProviderError",
    "Published",
    "RenderError",
    "RenderOptions",
    "RenderedShort",
    "Review",
    "STATS_COLUMNS",
    "STATS_LEGEND",
    "Scene",
    "ScenePlan",
    "Script",
    "Settings",
    "ShortRequest",
    "ShortResult",
    "ShortsError",
    "Source",
    "StatsReport",
    "Storyboard",
    "VideoFormat",
    "WordTiming",
    "add_topics",
    "animate_scene",
    "authorize_platform",
    "authorize_youtube",
    "build_manifest",
    "build_provider",
    "cancel_in_flight",
    "channel_stats",
    "check_budget",
    "check_free_space",
    "check_music",
    "check_post_ready",
    "check_providers",
    "check_upload_ready",
    "choose_music",
    "choose_providers",
    "describe_pick",
    "describe_platform",
    "disk_error",
    "draw_chart",
    "estimate_cost",
    "file_digest",
    "find_source",
    "footage_credits",
    "footage_line",
    "has_youtube_token",
    "import_studio_csv",
    "intact",
    "is_paid",
    "key_variable",
    "list_voices",
    "make_first_frame",
    "make_private",
    "moderate_script",
    "narrate",
    "near_copy",
    "next_topics",
    "no_voice_warning",
    "nothing_to_make",
    "open_ledger",
    "open_store",
    "package_version",
    "parse_platforms",
    "pick_footage",
    "picks_footage",
    "plan_script",
    "plan_storyboard",
    "post_everywhere",
    "prepare_output_dir",
    "preview_uri",
    "private_home",
    "private_secret",
    "provider_names",
    "provider_spec",
    "publish_short",
    "publish_to_outbox",
    "queue_name",
    "recent_scripts",
    "record_failed",
    "record_made",
    "record_upload",
    "redact",
    "refill_queue",
    "render_short",
    "row_cells",
    "scene_pictures",
    "scene_takes",
    "short_folder",
    "slug",
    "text_table",
    "topic_preference",
    "topic_statuses",
    "used_source",
    "with_credits",
    "write_package",
    "write_script",
    "write_storyboard",
]
