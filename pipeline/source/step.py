"""The source step: the Wikipedia article a Short's facts come from, and its free pictures, kept in the asset store
so that a rerun asks nothing of Wikipedia. No article, no network or no source asked for: one line, and None."""

from __future__ import annotations

import io
import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import httpx
from PIL import Image, UnidentifiedImageError

from pipeline.models import Model, ShortRequest
from pipeline.settings import SourceSettings
from pipeline.source.models import Source, SourcePicture
from pipeline.source.text import clean, sections, stems
from pipeline.source.wikipedia import Unreachable, WikipediaClient
from pipeline.state.store import AssetStore, atomic_path, content_key

log = logging.getLogger("shorts")

MAX_PICTURES = 4  # downloaded per Short: the lead picture and a few more; other scenes keep their title cards
SOURCE_VERSION = 1  # bump when what is kept of an article changes, so older records are read no more


class SourceRecord(Model):
    """What the store keeps of a search: the source, or None when Wikipedia has no article for the topic."""

    source: Source | None


def find_source(
    request: ShortRequest, settings: SourceSettings, store: AssetStore, pictures: bool = True, fresh: bool = False
) -> Source | None:
    """The article for the request's topic in its language (and, with `pictures`, its free pictures), else None;
    `fresh` asks Wikipedia again (a newer revision, say) instead of reading the store."""
    if (request.source or settings.source) == "none":
        log.info(
            "  no source: %s, so the script uses no article",
            "--source none" if request.source else "SHORTS_SOURCE=none",
        )
        return None
    language = request.language.split("-")[0].lower()
    root = settings.wikipedia_url.replace("{language}", language)
    key = content_key("source", root=root, topic=request.topic, pictures=pictures, version=SOURCE_VERSION)
    with httpx.Client(
        timeout=settings.wikipedia_timeout, headers={"User-Agent": user_agent()}, follow_redirects=True
    ) as client:
        api = WikipediaClient(root, client)
        try:
            record = None if fresh else _stored(store, key)
            if record is None:
                record = SourceRecord(source=_search(api, request.topic, language, pictures))
                _store(store, key, record)
            source = record.source and _with_files(record.source, api, store)
        except Unreachable as exc:
            log.warning("  no source: no answer from Wikipedia at %s (%s), so the script uses no article", root, exc)
            return None
    if source is None:
        log.info(
            "  no source: %s Wikipedia has no article for %r, so the script uses no article", language, request.topic
        )
    else:
        log.info(
            "  source: “%s” (%s, revision %d), %d free picture(s)",
            source.title,
            source.url,
            source.revision,
            len(source.pictures),
        )
    return source


def user_agent() -> str:
    """What Wikimedia asks clients to send: who we are, and the library."""
    try:
        ours = version("shorts")
    except PackageNotFoundError:
        ours = "unknown"
    return f"shorts/{ours} (open-source pipeline that turns a topic into a YouTube Short) httpx/{httpx.__version__}"


def _search(api: WikipediaClient, topic: str, language: str, pictures: bool) -> Source | None:
    article = api.find_article(topic)
    if article is None:
        return None
    lead, kept = sections(article.text, stems(topic))
    source = Source(
        language=language,
        title=article.title,
        url=article.url,
        revision=article.revision,
        lead=clean(lead),
        sections=[s.model_copy(update={"text": clean(s.text)}) for s in kept],
    )
    found = api.free_pictures(article)[:MAX_PICTURES] if pictures else []
    return source.model_copy(update={"pictures": found})


def _with_files(source: Source, api: WikipediaClient, store: AssetStore) -> Source:
    """The source with each picture's file in the store (downloaded when it is not there yet); a picture that cannot
    be had is left out, and after a failed download so are the rest (the text is kept)."""
    kept = []
    for picture in source.pictures:
        try:
            path = _picture_file(picture, api, store)
        except Unreachable as exc:
            log.warning("  pictures: %s; the scenes without one keep their title cards", exc)
            break
        if path:
            kept.append(picture.model_copy(update={"path": path}))
    return source.model_copy(update={"pictures": kept})


def _picture_file(picture: SourcePicture, api: WikipediaClient, store: AssetStore) -> Path | None:
    key, suffix = content_key("picture", url=picture.url), Path(picture.url.split("?")[0]).suffix.lower() or ".jpg"
    found = store.find("pictures", key, suffix)
    if found:
        return found
    data = api.download(picture.url)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (OSError, UnidentifiedImageError, SyntaxError):
        log.warning("  %s is not a picture we can read; left out", picture.url)
        return None
    path = store.path("pictures", key, suffix)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return store.saved(path)


def _stored(store: AssetStore, key: str) -> SourceRecord | None:
    path = store.find("sources", key, ".json")
    if not path:
        return None
    try:
        return SourceRecord.model_validate_json(path.read_bytes())
    except ValueError:
        return None  # written by another version: searched again


def _store(store: AssetStore, key: str, record: SourceRecord) -> None:
    path = store.path("sources", key, ".json")
    with atomic_path(path) as tmp:
        tmp.write_text(record.model_dump_json(indent=1), encoding="utf-8")
    store.saved(path)
