"""Pexels video search (GET /videos/search): portrait clips, their files and who made them."""

from __future__ import annotations

from typing import Any, ClassVar

from pipeline.models import Footage
from pipeline.providers.stock.clip import StockClipMaker, best_file


class PexelsClipMaker(StockClipMaker):
    """Scenes' clips from Pexels (free key; its licence asks for a credit to the videographer and Pexels)."""

    name: ClassVar[str] = "pexels"
    label: ClassVar[str] = "Pexels"
    signup: ClassVar[str] = "https://www.pexels.com/api/"

    def search_request(self, query: str, per_page: int) -> tuple[str, dict[str, Any], dict[str, str]]:
        params = {"query": query, "orientation": "portrait", "per_page": per_page}
        return "/videos/search", params, {"Authorization": self.key}

    def candidates(self, body: dict[str, Any], min_width: int) -> list[Footage]:
        found = []
        for video in body.get("videos") or []:
            files = [
                (f.get("width") or 0, f.get("height") or 0, f.get("link"))
                for f in video.get("video_files") or []
                if f.get("file_type", "video/mp4") == "video/mp4" and f.get("quality") != "hls"
            ]
            picked = best_file(files, min_width)
            if picked and video.get("id") is not None:
                user = video.get("user") or {}
                credit = {"author": user.get("name"), "author_url": user.get("url"), "page": video.get("url")}
                found.append(self.footage(video["id"], picked, video.get("duration"), **credit))
        return found
