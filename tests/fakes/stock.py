"""What the Pexels and Pixabay fakes share: a catalogue of clips with words, searched by any word, and real small
MP4 files served for download."""

from __future__ import annotations

import re
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from fakes.loopback import LoopbackFake, send_file
from fakes.runway import video_bytes


@dataclass(frozen=True)
class StockVideo:
    """One clip of the catalogue; `words` are what a search finds it by."""

    id: int
    words: str
    seconds: int = 8
    author: str = "Ann Lee"
    portrait: bool = True


CATALOGUE = [
    StockVideo(101, "octopus camouflage reef", author="Ann Lee"),
    StockVideo(102, "octopus camouflage sand", author="Bo Chan"),
    StockVideo(103, "octopus skin colour", seconds=2, author="Cy Diaz"),  # too short for a 3 s scene
    StockVideo(104, "octopus skin colour change", author="Di Eze"),
    StockVideo(105, "coral reef fish", author="Ed Fox"),
    StockVideo(106, "coral reef diver", author="Fay Gu", portrait=False),  # landscape: never picked
    StockVideo(107, "ocean waves", author="Gil Ho"),
    StockVideo(108, "octopus tentacles", author="Hal Ito"),
]


def words(text: str) -> set[str]:
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in re.findall(r"[a-z]+", text.lower())}


class FakeStock(LoopbackFake):
    """Subclasses answer the search in their vendor's shape; every request is logged in `requests`."""

    def __init__(self, catalogue: list[StockVideo] = CATALOGUE) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.status: int | None = None  # answer every search with this status instead

    def matches(self, query: str) -> list[StockVideo]:
        """Clips sharing a word with the query, most shared words first, then in catalogue order."""
        wanted = words(query)
        scored = [(len(wanted & words(v.words)), i, v) for i, v in enumerate(self.catalogue)]
        return [v for score, _, v in sorted(scored, key=lambda s: (-s[0], s[1])) if score]

    def searches(self) -> list[str]:
        return [r["query"] for r in self.requests if r["kind"] == "search"]

    def downloads(self) -> list[str]:
        return [r["path"] for r in self.requests if r["kind"] == "download"]

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path.startswith("/files/"):
            with self.lock:
                self.requests.append({"kind": "download", "path": url.path, "headers": dict(h.headers)})
            width, height, seconds = (int(n) for n in re.findall(r"\d+", url.path)[1:4])
            return send_file(h, video_bytes(width, height, seconds), "video/mp4")
        with self.lock:
            self.requests.append(
                {
                    "kind": "search",
                    "path": url.path,
                    "params": params,
                    "headers": dict(h.headers),
                    "query": params.get("query") or params.get("q") or "",
                }
            )
        return self.search(h, url.path, params)

    def file_url(self, video: StockVideo, width: int, height: int) -> str:
        return f"{self.root}/files/{video.id}/{width}x{height}-{video.seconds}s.mp4"

    def search(self, h: BaseHTTPRequestHandler, path: str, params: dict[str, str]) -> None:
        raise NotImplementedError
