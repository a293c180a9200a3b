"""Posting the finished Short to other platforms (Instagram, Facebook, TikTok), exactly once per platform and account.

`post_everywhere` runs the platforms' targets (pipeline.publish.contract) one after another, each under a lock and
from its record in the ledger: a post already made is only reported, one under way is resumed. A platform that fails
never stops the others; each ends as one `PostOutcome`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from pydantic import SecretStr

from pipeline.errors import ConfigError, ProviderError, ShortsError, redact, remember_secrets
from pipeline.models import Script
from pipeline.publish.contract import (
    FINISHED,
    PLATFORMS,
    POSTED,
    Platform,
    PostJob,
    PostOutcome,
    PostTarget,
    VideoFacts,
)
from pipeline.publish.tokens import save_token
from pipeline.settings import Settings
from pipeline.state.ledger import Ledger, open_ledger
from pipeline.state.store import file_digest

log = logging.getLogger("shorts")


def parse_platforms(text: str | list[str] | list[Platform] | None) -> list[str]:
    """`youtube,instagram` (or a list) as a list of known platforms, in order, each once; one sentence otherwise."""
    items = text if isinstance(text, list) else (text or "").split(",")
    names = [item.strip().lower() for item in items if item.strip()]
    unknown = [name for name in names if name not in PLATFORMS]
    if unknown:
        raise ConfigError(f"Cannot post to {', '.join(unknown)}; choose from {', '.join(PLATFORMS)}.")
    return list(dict.fromkeys(names))


def build_target(
    name: str, settings: Settings, *, http: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep
) -> PostTarget:
    """The target for a platform, with its credentials; ConfigError (one sentence) when they are missing."""
    if name == "instagram":
        from pipeline.publish.instagram.target import InstagramTarget

        return InstagramTarget.from_settings(settings, http=http, sleep=sleep)
    if name == "facebook":
        from pipeline.publish.facebook.target import FacebookTarget

        return FacebookTarget.from_settings(settings, http=http, sleep=sleep)
    if name == "tiktok":
        from pipeline.publish.tiktok.target import TikTokTarget

        return TikTokTarget.from_settings(settings, http=http, sleep=sleep)
    raise ConfigError(f"Cannot post to {name}; choose from instagram, facebook, tiktok.")


def check_post_ready(settings: Settings, platforms: list[str]) -> None:
    """Fail now, before anything is made, when a platform asked for has no credentials."""
    for name in platforms:
        if name != "youtube":
            build_target(name, settings).close()


def describe_platform(name: str, settings: Settings) -> str:
    """One line for `shorts doctor`, from free calls: whose account the token is for and what is left of its quota,
    or how to set the platform up; ShortsError when the platform refuses the token."""
    try:
        target = build_target(name, settings)
    except ConfigError as exc:
        return str(exc)
    try:
        return target.describe_account()
    except httpx.HTTPError as exc:
        raise ProviderError(f"Could not reach {name} ({type(exc).__name__}).") from exc
    finally:
        target.close()


def authorize_platform(
    name: str,
    settings: Settings,
    access_token: str,
    *,
    account: str | None = None,
    refresh_token: str | None = None,
    http: httpx.Client | None = None,
) -> tuple[Path, str]:
    """Check a pasted token with a free call, then store it (0600) for `name`; (its file, the account line).

    `account` is the Instagram user id or the Facebook Page id; `refresh_token` is TikTok's.
    """
    remember_secrets(access_token, *([refresh_token] if refresh_token else []))
    if name in ("instagram", "facebook") and not account:
        what = "--user-id (the Instagram account's id)" if name == "instagram" else "--page-id (the Page's id)"
        raise ConfigError(f"Give {what} with the token.")
    if name == "instagram":
        from pipeline.publish.instagram.target import InstagramTarget

        stored = {"access_token": access_token, "user_id": account}
        target: PostTarget = InstagramTarget.from_settings(
            settings.model_copy(
                update={"instagram_access_token": SecretStr(access_token), "instagram_user_id": account}
            ),
            http=http,
        )
    elif name == "facebook":
        from pipeline.publish.facebook.target import FacebookTarget

        stored = {"access_token": access_token, "page_id": account}
        target = FacebookTarget.from_settings(
            settings.model_copy(
                update={"facebook_page_access_token": SecretStr(access_token), "facebook_page_id": account}
            ),
            http=http,
        )
    elif name == "tiktok":
        from pipeline.publish.tiktok.target import TikTokTarget

        stored = {"access_token": access_token, "refresh_token": refresh_token, "expires_at": None}
        target = TikTokTarget.from_settings(settings, http=http, token=stored)
    else:
        raise ConfigError(f"Cannot authorise {name}; choose instagram, facebook or tiktok.")
    try:
        line = target.describe_account()  # a refused token is said now, and nothing is stored
    except httpx.HTTPError as exc:
        raise ProviderError(f"Could not reach {name} to check the token ({type(exc).__name__}).") from exc
    finally:
        target.close()
    return save_token(settings.home_dir, name, stored), line


def video_facts(video: Path) -> VideoFacts:
    from pipeline.publish.youtube_format import probe

    width, height, seconds = probe(video)
    return VideoFacts(
        path=video, digest=file_digest(video), size=video.stat().st_size, width=width, height=height, seconds=seconds
    )


def post_everywhere(
    video: Path,
    script: Script,
    platforms: list[str],
    settings: Settings,
    *,
    http: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[PostOutcome]:
    """Post `video` to each platform (not YouTube: see step.publish) at most once; one outcome per platform, in
    order (the caller says them: `PostOutcome.line`)."""
    facts = video_facts(video)
    ledger = open_ledger(settings)
    outcomes = []
    for name in platforms:
        try:
            target = build_target(name, settings, http=http, sleep=sleep)
        except ShortsError as exc:
            outcomes.append(PostOutcome(platform=name, status="skipped", reason=str(exc).rstrip(".")))
            continue
        try:
            outcomes.append(_post_once(target, facts, script, ledger))
        finally:
            target.close()
    return outcomes


def _post_once(target: PostTarget, video: VideoFacts, script: Script, ledger: Ledger) -> PostOutcome:
    # Two runs posting the same video at once: the second waits, then finds the first one's post in the ledger.
    with ledger.hold(
        f"post-{target.name}-{target.account}-{video.digest}",
        waiting=f"waiting for another run that is posting this video to {target.name}",
    ):
        job = PostJob(ledger, target.name, target.account, video.digest)
        earlier = job.record
        if earlier and earlier.stage in FINISHED:  # a published post is never posted again
            log.info("  already on %s, nothing posted again", target.name)
            return PostOutcome(
                platform=target.name,
                status="posted" if earlier.stage == POSTED else "drafted",
                link=earlier.link,
                reason=earlier.detail,
            )
        try:
            if earlier is None and (reason := target.check(video, script)):
                return PostOutcome(platform=target.name, status="skipped", reason=reason.rstrip("."))
            if earlier:
                log.info("  resuming the %s post (%s)", target.name, earlier.stage)
            return target.post(video, script, job)
        except ShortsError as exc:
            return _failed(target.name, str(exc), job)
        except httpx.HTTPError as exc:  # connection trouble past the retries: never the URL, which may carry an id
            return _failed(target.name, f"could not reach {target.name} ({type(exc).__name__})", job)
        except (KeyError, TypeError, ValueError) as exc:  # an answer not shaped as documented: this platform only
            log.debug("  %s answered unexpectedly", target.name, exc_info=True)
            return _failed(
                target.name,
                f"{target.name} answered in an unexpected shape ({type(exc).__name__}: {str(exc)[:100]})",
                job,
            )


def _failed(platform: str, reason: str, job: PostJob) -> PostOutcome:
    resumes = job.record is not None
    return PostOutcome(platform=platform, status="failed", reason=redact(reason).rstrip("."), resumes=resumes)
