"""A Short's custom thumbnail: the first scene's first frame with the title on it, set once YouTube has processed
the video. A thumbnail is decoration: whatever goes wrong here is a warning, never a failed or repeated upload."""

from __future__ import annotations

import io
import json
import logging
import random
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import imageio_ffmpeg
from google.auth.exceptions import GoogleAuthError
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload
from PIL import Image, ImageDraw, ImageOps

from pipeline.limits import THUMBNAIL_MAX_BYTES
from pipeline.media import text
from pipeline.media.fonts import FONT, load_font, visible
from pipeline.publish.youtube_retry import TRANSPORT_ERRORS, describe, execute, is_rate_limit
from pipeline.publish.youtube_upload import processing_status
from pipeline.state.store import atomic_path

if TYPE_CHECKING:
    from googleapiclient._apis.youtube.v3 import YouTubeResource

log = logging.getLogger("shorts")

SIZE = (1080, 1920)  # 9:16, what the Shorts shelf shows; a JPEG of it is well under the size limit
PROCESSING_WAIT = 300.0  # seconds to wait for YouTube's processing before leaving the thumbnail to a rerun
POLL_SECONDS = (5.0, 10.0, 15.0, 30.0)  # then every 30 s: a Short is usually processed within a minute or two
PROCESSED = ("succeeded", "processed")
ENDED = ("failed", "terminated", "rejected", "deleted")


class NoThumbnail(Exception):
    """Why the thumbnail was not set, as one sentence for the log."""


def add_thumbnail(
    youtube: YouTubeResource,
    video: Path,
    video_id: str,
    title: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
    wait: float = PROCESSING_WAIT,
) -> bool:
    """Make the thumbnail beside `video`, wait for YouTube to process the video and set it; False (after a warning
    in the log) when it could not be set."""
    try:
        jpeg = make_thumbnail(video, title, video.with_name("thumbnail.jpg"))
        wait_until_processed(youtube, video_id, sleep=sleep, jitter=jitter, wait=wait)
        set_thumbnail(youtube, video_id, jpeg, sleep=sleep, jitter=jitter)
    except NoThumbnail as exc:
        log.warning("  %s", exc)
        return False
    except HttpError as exc:
        log.warning("  %s", _refused(exc))
        return False
    # OSError (among the transport errors) also covers a frame or manifest that cannot be read.
    except (GoogleAuthError, *TRANSPORT_ERRORS, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
        log.warning(
            "  The thumbnail was not set (%s); the Short is up without it, and rerunning the same command tries again.",
            describe(exc),
        )
        return False
    log.info("  thumbnail set (%s)", jpeg.name)
    return True


def make_thumbnail(video: Path, title: str, dest: Path) -> Path:
    """Draw `title` on the first scene's first frame, as the manifest beside `video` lists it (else on the video's
    own first frame): a JPEG at `dest`."""
    image = ImageOps.fit(_first_frame(video), SIZE, Image.Resampling.LANCZOS)
    _draw_title(image, visible(title).strip())
    data = io.BytesIO()
    image.save(data, "JPEG", quality=88, optimize=True)
    if data.tell() > THUMBNAIL_MAX_BYTES:
        raise NoThumbnail(
            f"The thumbnail came out at {data.tell()} bytes, over YouTube's limit, so it is not set; "
            "the Short is up without it."
        )
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data.getvalue())
    return dest


def wait_until_processed(
    youtube: YouTubeResource,
    video_id: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
    wait: float = PROCESSING_WAIT,
) -> str:
    """Poll `videos.list` until YouTube has processed the video (a thumbnail set earlier may not apply); at most
    `wait` seconds of sleeping."""
    waited, polls = 0.0, 0
    while True:
        status = processing_status(youtube, video_id, sleep=sleep, jitter=jitter)
        log.info("  YouTube processing status: %s", status or "not known yet")
        if status in PROCESSED:
            return status
        if status in ENDED:
            raise NoThumbnail(
                f"YouTube's processing of the video ended as {status!r}, so no thumbnail was set; "
                "look at the video in YouTube Studio."
            )
        pause = POLL_SECONDS[min(polls, len(POLL_SECONDS) - 1)]
        if waited + pause > wait:
            raise NoThumbnail(
                f"YouTube had not finished processing the Short after {waited:g} s, so its thumbnail "
                "is not set yet; rerun the same command later to set it (nothing is uploaded again)."
            )
        sleep(pause)
        waited, polls = waited + pause, polls + 1


def set_thumbnail(
    youtube: YouTubeResource,
    video_id: str,
    jpeg: Path,
    *,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> None:
    """`thumbnails.set` with the JPEG; retried like every call, since setting it twice only replaces it."""
    media = MediaFileUpload(str(jpeg), mimetype="image/jpeg")
    try:
        execute(
            youtube.thumbnails().set(videoId=video_id, media_body=media), "thumbnail upload", sleep=sleep, jitter=jitter
        )
    finally:
        media.stream().close()


def _refused(exc: HttpError) -> str:
    if exc.status_code == 403 and not is_rate_limit(exc):
        return (
            f"YouTube refused the thumbnail ({describe(exc)}), as it does for a channel not allowed custom "
            "thumbnails; verify the channel at youtube.com/verify or set SHORTS_YOUTUBE_THUMBNAIL=false, and the "
            "Short itself is up."
        )
    return (
        f"YouTube did not take the thumbnail ({describe(exc)}); the Short is up without it, and rerunning the "
        "same command tries again."
    )


def _first_frame(video: Path) -> Image.Image:
    manifest = video.with_name("manifest.json")
    listed = json.loads(manifest.read_text(encoding="utf-8")).get("frames") if manifest.is_file() else None
    frames = sorted(listed or [], key=lambda frame: frame.get("scene", 0))
    if frames and Path(frames[0]["path"]).is_file():
        with Image.open(frames[0]["path"]) as image:
            return ImageOps.exif_transpose(image).convert("RGB")
    # Stock or folder footage has no first frames, and a store may have lost one: the video starts the same way.
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(video),
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "-",
    ]
    png = subprocess.run(cmd, capture_output=True, timeout=60).stdout
    if not png:
        raise NoThumbnail("The video has no frame to make a thumbnail of, so none is set; the Short is up without it.")
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGB")


def _draw_title(image: Image.Image, title: str) -> None:
    """The title in large white letters with a black outline, over a dark band in the lower middle: clear of
    the Shorts player's buttons (right) and its caption (bottom), and of a title card's own headline, which a lighter
    band let show through behind the letters. Words in other scripts take their own fonts, right to left where they
    are written so."""
    words = title.split()
    if not words:
        return
    width, height = image.size
    px, lines = _fit(words, round(width * 0.11), width * 0.84, height * 0.3)
    pitch = px * 1.18
    top = height * 0.7 - pitch * len(lines) / 2
    band = Image.new("L", image.size, 0)
    ImageDraw.Draw(band).rectangle((0, top - pitch * 0.5, width, top + pitch * (len(lines) + 0.5)), fill=180)
    image.paste(Image.new("RGB", image.size, (0, 0, 0)), mask=band)
    draw, space = ImageDraw.Draw(image), load_font(FONT, px).getlength(" ")
    for i, line in enumerate(lines):
        widths = [text.width(piece.text, px) for piece in line]
        x, baseline = (width - sum(widths) - space * (len(line) - 1)) / 2, top + pitch * (i + 0.5) + px * 0.36
        for k in text.visual_order([text.direction(piece.text) for piece in line]):
            text.draw_word(
                draw,
                x,
                baseline,
                line[k].text,
                px,
                fill=(255, 255, 255),
                stroke_width=max(1, round(px * 0.07)),
                stroke_fill=(0, 0, 0),
            )
            x += widths[k] + space


def _fit(words: list[str], size: int, max_width: float, max_height: float) -> tuple[int, list[list[text.Piece]]]:
    """The largest size (from `size` down) at which the words wrap into at most 4 lines within the box (a word too
    wide for a line is broken, never drawn as a hairline)."""
    while True:
        space = load_font(FONT, size).getlength(" ")
        lines = text.wrap(words, lambda piece: text.width(piece, size), space, max_width)
        if size <= 12 or len(lines) <= 4 and size * 1.18 * len(lines) <= max_height:
            return size, lines
        size -= max(1, size // 12)
