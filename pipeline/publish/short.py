"""Step 6: publish. Upload the Short to YouTube, exactly once per channel, or drop the package in the outbox."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError, ShortsError
from pipeline.models import Published, Script, ShortRequest
from pipeline.package import PACKAGE_FILES, check_packaged_video, short_folder
from pipeline.publish.youtube_auth import auth_command, has_youtube_token, load_youtube_credentials, revoked
from pipeline.publish.youtube_metadata import build_metadata, check_schedule
from pipeline.settings import Settings
from pipeline.state.ledger import open_ledger
from pipeline.state.store import file_digest, is_stale, temp_tag

if TYPE_CHECKING:
    import httplib2
    from googleapiclient._apis.youtube.v3 import YouTubeResource

log = logging.getLogger("shorts")


def publish_short(
    out_dir: Path,
    script: Script,
    request: ShortRequest,
    settings: Settings,
    *,
    http: httplib2.Http | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Published:
    """Upload to YouTube when the request asks and the channel is authorised, else drop it in the outbox."""
    channel = request.channel or settings.youtube_channel
    if request.upload and has_youtube_token(settings.home_dir, channel):
        return publish_to_youtube(
            out_dir / "final.mp4", script, request.language, settings, channel, http=http, sleep=sleep
        )
    if request.upload:
        log.warning(
            "  no YouTube token for channel %r, so the Short goes to the outbox; run `%s` to upload",
            channel,
            auth_command(channel),
        )
    # Named after the output folder; one with no name of its own (--out /) takes the topic's.
    return publish_to_outbox(out_dir, settings.outbox, out_dir.resolve().name or short_folder(request.topic))


def check_upload_ready(settings: Settings, channel: str | None = None) -> str:
    """Fail now, before anything is made, if an upload could not happen; returns the channel it would use."""
    channel = channel or settings.youtube_channel
    check_schedule(settings.youtube_privacy, settings.youtube_publish_at)
    load_youtube_credentials(settings.home_dir, channel)
    return channel


def publish_to_youtube(
    video: Path,
    script: Script,
    language: str,
    settings: Settings,
    channel: str,
    *,
    http: httplib2.Http | None = None,
    sleep: Callable[[float], None] = time.sleep,
    chunksize: int | None = None,
) -> Published:
    """Upload `video` once per channel: a video already up is only reported, an interrupted upload resumes.

    `chunksize` is the bytes sent per request (youtube_upload.CHUNK_SIZE when None).
    """
    check_packaged_video(video)  # a cut or garbled file is never sent
    # Two runs publishing the same Short at once must not both insert it: the second waits here for the first,
    # then finds its video id in the ledger. The lock dies with its process, so a killed upload never blocks a rerun.
    digest = file_digest(video)
    with open_ledger(settings).hold(
        f"youtube-{channel}-{digest}", waiting="waiting for another run that is uploading this same video"
    ):
        return _upload_once(
            video, digest, script, language, settings, channel, http=http, sleep=sleep, chunksize=chunksize
        )


def _upload_once(
    video: Path,
    digest: str,
    script: Script,
    language: str,
    settings: Settings,
    channel: str,
    *,
    http: httplib2.Http | None,
    sleep: Callable[[float], None],
    chunksize: int | None,
) -> Published:
    # Google's API client loads here, not at the top: every `shorts` process imports this module, few upload.
    from google.auth.exceptions import GoogleAuthError, RefreshError
    from googleapiclient.errors import HttpError

    from pipeline.publish.youtube_format import check_is_short
    from pipeline.publish.youtube_upload import (
        CHUNK_SIZE,
        TRANSPORT_ERRORS,
        processing_status,
        shorts_url,
        upload_video,
    )

    ledger = open_ledger(settings)
    earlier = ledger.upload(digest, channel)
    if earlier and earlier.video_id:
        log.info("  already on YouTube (channel %s), nothing uploaded: %s", channel, shorts_url(earlier.video_id))
        if settings.youtube_thumbnail and not earlier.thumbnail_set_at:  # an earlier run could not set it
            try:
                with _youtube(settings, channel, http) as youtube:
                    _thumbnail(youtube, video, digest, earlier.video_id, script.title, settings, channel, sleep)
            except ShortsError as exc:  # the video is up: a thumbnail never fails the run
                log.warning("  The thumbnail was not set: %s", exc)
        return _on_youtube(earlier.video_id, shorts_url(earlier.video_id))
    check_is_short(video)  # before any request: YouTube would make a longer or wider video a normal one
    metadata = build_metadata(
        script,
        language,
        category_id=settings.youtube_category_id,
        privacy=settings.youtube_privacy,
        publish_at=settings.youtube_publish_at,
        made_for_kids=settings.youtube_made_for_kids,
    )
    with _youtube(settings, channel, http) as youtube:
        if earlier and earlier.session_uri:
            log.info("  resuming the interrupted YouTube upload")
        try:
            uploaded = upload_video(
                youtube,
                video,
                metadata.body(),
                session_uri=earlier.session_uri if earlier else None,
                on_session=lambda uri: ledger.record_upload_session(digest, channel, uri, title=metadata.title),
                sleep=sleep,
                chunksize=chunksize or CHUNK_SIZE,
            )
        except RefreshError as exc:
            raise revoked(channel) from exc
        ledger.record_upload_done(digest, channel, uploaded["id"])
        log.info("  uploaded to YouTube (channel %s, %s): %s", channel, metadata.privacy, shorts_url(uploaded["id"]))
        if settings.youtube_thumbnail:
            _thumbnail(youtube, video, digest, uploaded["id"], script.title, settings, channel, sleep)
        else:
            try:
                log.info(
                    "  YouTube processing status: %s",
                    processing_status(youtube, uploaded["id"], sleep=sleep) or "not known yet",
                )
            except (HttpError, GoogleAuthError, *TRANSPORT_ERRORS) as exc:  # only a report: never fail on it
                log.info("  YouTube processing status not available (%s)", type(exc).__name__)
    return _on_youtube(uploaded["id"], shorts_url(uploaded["id"]))


@contextmanager
def _youtube(settings: Settings, channel: str, http: httplib2.Http | None) -> Iterator[YouTubeResource]:
    """A YouTube client signed for the channel, closed afterwards when its connections are ours."""
    from pipeline.publish.youtube_upload import youtube_client

    youtube = youtube_client(load_youtube_credentials(settings.home_dir, channel, http), http, settings.youtube_api_url)
    try:
        yield youtube
    finally:
        if http is None:
            youtube.close()  # httplib2 keeps its sockets open until told


def _thumbnail(
    youtube: YouTubeResource,
    video: Path,
    digest: str,
    video_id: str,
    title: str,
    settings: Settings,
    channel: str,
    sleep: Callable[[float], None],
) -> None:
    from pipeline.publish.youtube_thumbnail import add_thumbnail

    if add_thumbnail(youtube, video, video_id, title, sleep=sleep):
        open_ledger(settings).record_thumbnail_set(digest, channel)


def _on_youtube(video_id: str, url: str) -> Published:
    return Published(destination="youtube", location=url, youtube_id=video_id, youtube_url=url)


def publish_to_outbox(out_dir: Path, outbox: Path, name: str) -> Published:
    """Copy the package to `outbox/<name>-<video hash>`; the same video is dropped only once."""
    target = outbox / f"{name}-{file_digest(out_dir / 'final.mp4')[:10]}"
    if target.is_dir():
        return Published(destination="outbox", location=str(target))
    try:
        outbox.mkdir(parents=True, exist_ok=True)
        _sweep_staging(outbox)
        staging = Path(tempfile.mkdtemp(prefix=f".incoming-{temp_tag()}.part-", dir=outbox))
        try:
            for file in PACKAGE_FILES:
                shutil.copyfile(out_dir / file, staging / file)
            try:
                os.replace(staging, target)  # a reader never sees half a package
            except OSError:
                if not target.is_dir():
                    raise  # else another run dropped the same video a moment ago
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot write to the outbox {outbox} ({exc.strerror}); set SHORTS_OUTBOX_DIR.", step="publish"
        ) from exc
    return Published(destination="outbox", location=str(target))


def _sweep_staging(outbox: Path) -> None:
    """Remove half-copied packages whose run died before it could rename them into place."""
    for staging in outbox.glob(".incoming-*"):
        if is_stale(staging):
            shutil.rmtree(staging, ignore_errors=True)
