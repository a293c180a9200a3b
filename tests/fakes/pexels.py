"""A Pexels video search (GET /videos/search, Authorization: KEY) on 127.0.0.1, in the API's own answer shape."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from fakes.loopback import send
from fakes.stock import FakeStock, StockVideo

KEY = "fake-pexels-key-0000"


class FakePexels(FakeStock):
    """Start it and point PEXELS_BASE_URL at `url`."""

    @property
    def url(self) -> str:
        return self.root

    def search(self, h: BaseHTTPRequestHandler, path: str, params: dict[str, str]) -> None:
        if path != "/videos/search":
            return send(h, 404, {"error": "Not found"})
        if h.headers.get("Authorization") != KEY:
            return send(h, 401, {"error": "Unauthorized"})
        if self.status:
            return send(h, self.status, {"error": "Rate limit exceeded"})
        found = [
            v for v in self.matches(params.get("query", "")) if params.get("orientation") != "portrait" or v.portrait
        ]
        per_page = int(params.get("per_page", 15))
        return send(
            h,
            200,
            {
                "page": 1,
                "per_page": per_page,
                "total_results": len(found),
                "videos": [self._video(v) for v in found[:per_page]],
            },
        )

    def _video(self, v: StockVideo) -> dict:
        sizes = [(540, 960, "sd"), (720, 1280, "hd"), (1080, 1920, "hd")]
        if not v.portrait:
            sizes = [(h, w, q) for w, h, q in sizes]
        files = [
            {
                "id": v.id * 10 + i,
                "quality": q,
                "file_type": "video/mp4",
                "width": w,
                "height": h,
                "fps": 25,
                "link": self.file_url(v, w, h),
            }
            for i, (w, h, q) in enumerate(sizes)
        ]
        files.append(
            {
                "id": v.id * 10 + 9,
                "quality": "hls",
                "file_type": "video/mp4",
                "width": None,
                "height": None,
                "fps": None,
                "link": f"{self.root}/hls/{v.id}.m3u8",
            }
        )
        slug = v.words.replace(" ", "-")
        return {
            "id": v.id,
            "width": files[-2]["width"],
            "height": files[-2]["height"],
            "duration": v.seconds,
            "url": f"https://www.pexels.com/video/{slug}-{v.id}/",
            "image": f"{self.root}/thumbs/{v.id}.jpg",
            "user": {"id": v.id + 1000, "name": v.author, "url": f"https://www.pexels.com/@{v.id + 1000}"},
            "video_files": files,
            "video_pictures": [],
        }
