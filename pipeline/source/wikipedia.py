"""Wikipedia's Action API (`/w/api.php`): search, an article's text, and its pictures' licences.

Three requests at most, each small: a search that says which results are disambiguation pages, the chosen article's
plain text with its revision and image list, and the image info (URL, size, licence metadata) of a few of them.
"""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from pipeline.models import Model
from pipeline.source.licences import is_free
from pipeline.source.models import SourcePicture

SEARCH_RESULTS = 5
MAX_CANDIDATES = 8  # pictures whose licence is looked up (one request for all)
PICTURE_WIDTH = 1280  # the scaled copy asked for: a 9:16 crop of a 3:2 photo then needs no more than 2x for 720x1280
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")  # photos; .svg and .gif on an article are icons, maps and logos
_TAGS = re.compile(r"<[^>]+>")


class Unreachable(Exception):
    """Wikipedia did not answer (no network, a timeout, an error status, an answer that is not its JSON)."""


class Article(Model):
    """The chosen article as the API gives it: its plain text has `== Heading ==` lines between sections."""

    title: str
    url: str
    revision: int
    text: str
    lead_image: str | None  # the file's name, without "File:"
    images: list[str]  # the files the page shows, with their namespace


class WikipediaClient:
    """The Action API of one Wikipedia, at `root` (e.g. https://fr.wikipedia.org)."""

    def __init__(self, root: str, client: httpx.Client) -> None:
        self.api = root.rstrip("/") + "/w/api.php"
        self.client = client

    def find_article(self, topic: str) -> Article | None:
        """The best search result for `topic` that is not a disambiguation page, with its text; None when none."""
        found = self._query(
            generator="search",
            gsrsearch=topic,
            gsrlimit=SEARCH_RESULTS,
            gsrnamespace=0,
            prop="pageprops|info",
            ppprop="disambiguation",
            inprop="url",
            redirects=1,
        )
        pages = sorted(found.get("pages", []), key=lambda page: page.get("index", 0))
        best = next((p for p in pages if "disambiguation" not in p.get("pageprops", {}) and not p.get("missing")), None)
        if best is None:
            return None
        page = self._query(
            pageids=best["pageid"],
            prop="extracts|revisions|pageimages|images",
            explaintext=1,
            exsectionformat="wiki",
            rvprop="ids",
            piprop="name",
            imlimit=50,
        )["pages"][0]
        revisions = page.get("revisions") or [{"revid": best.get("lastrevid", 0)}]
        lead_image = page.get("pageimage")
        return Article(
            title=page["title"],
            url=best.get("fullurl") or best.get("canonicalurl", ""),
            revision=int(revisions[0]["revid"]),
            text=page.get("extract", ""),
            lead_image=lead_image.replace("_", " ") if lead_image else None,
            images=[image["title"] for image in page.get("images", [])],
        )

    def free_pictures(self, article: Article) -> list[SourcePicture]:
        """The article's photos hosted on Commons under a free licence, the lead picture first."""
        names = [_name(title) for title in article.images if title.lower().endswith(PICTURE_SUFFIXES)]
        if article.lead_image and article.lead_image.lower().endswith(PICTURE_SUFFIXES):
            names = [article.lead_image, *(n for n in names if n != article.lead_image)]
        names = list(dict.fromkeys(names))[:MAX_CANDIDATES]
        if not names:
            return []
        found = self._query(
            titles="|".join(f"File:{name}" for name in names),
            prop="imageinfo",
            iiprop="url|size|mime|timestamp|extmetadata",
            iiurlwidth=PICTURE_WIDTH,
            iiextmetadatafilter="LicenseShortName|LicenseUrl|Artist|Credit|NonFree|ImageDescription",
        )
        by_name = {_name(page["title"]): page for page in found.get("pages", [])}
        pictures = [_picture(by_name[name], name == article.lead_image) for name in names if name in by_name]
        return [picture for picture in pictures if picture]

    def download(self, url: str) -> bytes:
        """The bytes at a URL an answer named (a picture's scaled copy)."""
        try:
            response = self.client.get(url)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise Unreachable(f"{_why(exc)}, fetching {url}") from exc
        return response.content

    def _query(self, **params: Any) -> dict[str, Any]:
        try:
            response = self.client.get(
                self.api, params={"action": "query", "format": "json", "formatversion": 2, **params}
            )
            response.raise_for_status()
            answer = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unreachable(_why(exc)) from exc
        if not isinstance(answer, dict) or "error" in answer:
            raise Unreachable(f"an API error: {str(answer.get('error'))[:120]}")
        return answer.get("query", {})


def _picture(page: dict[str, Any], lead: bool) -> SourcePicture | None:
    """A picture we may show: on Commons (a file kept on a Wikipedia itself may be non-free), its licence free."""
    info = (page.get("imageinfo") or [{}])[0]
    meta = {name: _text(value.get("value")) for name, value in info.get("extmetadata", {}).items()}
    if page.get("imagerepository") != "shared" or not is_free(meta.get("LicenseShortName", ""), meta.get("NonFree")):
        return None
    author = meta.get("Artist") or meta.get("Credit") or ""
    if not author and not meta["LicenseShortName"].lower().startswith(("public domain", "pd", "cc0")):
        return None  # CC BY asks for the author, and we could not name one
    return SourcePicture(
        file=page["title"],
        page=info.get("descriptionurl", ""),
        url=info.get("thumburl") or info.get("url", ""),
        author=author or "unknown author",
        licence=meta["LicenseShortName"],
        licence_url=meta.get("LicenseUrl"),
        version=info.get("timestamp"),
        description=meta.get("ImageDescription", "")[:300],
        width=int(info.get("thumbwidth") or info.get("width") or 0),
        height=int(info.get("thumbheight") or info.get("height") or 0),
        lead=lead,
    )


def _name(title: str) -> str:
    """A file's name without its namespace ("File:", "Fichier:", ...), with spaces for underscores."""
    return title.split(":", 1)[-1].replace("_", " ").strip()


def _text(value: object) -> str:
    """Metadata values are HTML: the words only."""
    return " ".join(html.unescape(_TAGS.sub(" ", str(value or ""))).split())


def _why(exc: Exception) -> str:
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.HTTPError):
        return f"no connection: {type(exc).__name__}"
    return "not the API's JSON"
