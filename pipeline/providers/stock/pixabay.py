"""Pixabay video search (GET /videos/?key=&q=): clips in up to four sizes, their page and who made them."""

from __future__ import annotations

from typing import Any, ClassVar

from pipeline.models import Footage
from pipeline.providers.stock.clip import StockClipMaker, best_file

SIZES = ("large", "medium", "small", "tiny")


class PixabayClipMaker(StockClipMaker):
    """Scenes' clips from Pixabay (free key; its content licence asks for no credit, but one is given)."""

    name: ClassVar[str] = "pixabay"
    label: ClassVar[str] = "Pixabay"
    signup: ClassVar[str] = "https://pixabay.com/api/docs/"

    def search_request(self, query: str, per_page: int) -> tuple[str, dict[str, Any], dict[str, str]]:
        # Pixabay takes the key only in the query string, so its URLs are never logged or put in an error.
        params = {"key": self.key, "q": query[:100], "per_page": per_page, "safesearch": "true"}
        return "/videos/", params, {}

    def candidates(self, body: dict[str, Any], min_width: int) -> list[Footage]:
        found = []
        for hit in body.get("hits") or []:
            videos = hit.get("videos") or {}
            files = [
                (v.get("width") or 0, v.get("height") or 0, v.get("url"))
                for v in (videos.get(size) or {} for size in SIZES)
            ]
            picked = best_file(files, min_width)
            if picked and hit.get("id") is not None:
                user = hit.get("user")
                profile = f"https://pixabay.com/users/{user}-{hit['user_id']}/" if user and hit.get("user_id") else None
                credit = {"author": user, "author_url": profile, "page": hit.get("pageURL")}
                found.append(self.footage(hit["id"], picked, hit.get("duration"), **credit))
        return found
