"""Stock clips (Pexels, Pixabay): every scene's clip found by its search terms, all picked at once so no clip is
used twice, downloaded once into the asset store and fitted to its scene."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar, Self

import httpx
from pydantic import SecretStr

from pipeline.errors import ConfigError, ProviderError
from pipeline.models import Footage, Scene, Script, VideoFormat
from pipeline.providers.base import ClipMaker, ClipOrder, Made, Shared
from pipeline.providers.folder.files import fit_video
from pipeline.search_terms import broader_terms, scene_terms
from pipeline.settings import StockSettings, key_variable
from pipeline.state.store import AssetStore, atomic_path, content_key

log = logging.getLogger("shorts")
File = tuple[int, int, str | None]  # width, height, link


def best_file(files: list[File], min_width: int) -> File | None:
    """The smallest portrait file at least `min_width` wide (the least to download that still looks sharp)."""
    fitting = [f for f in files if f[2] and f[1] > f[0] >= min_width]
    return min(fitting, key=lambda f: (f[0] * f[1], f[2])) if fitting else None


class StockClipMaker(ClipMaker):
    """A stock-footage source: subclasses say how to ask it (`search_request`) and read its answer (`candidates`)."""

    name: ClassVar[str]
    label: ClassVar[str]  # the vendor's name as its credit line spells it
    env_var: ClassVar[str]  # the vendor's key variable, from the setting named for it
    signup: ClassVar[str]  # where a free key is had
    model: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.env_var = key_variable(f"{cls.name}_api_key")
        cls.model = f"{cls.name}-videos-v1"  # the search API's version: part of each clip's key in the store

    section: ClassVar[type[StockSettings]] = StockSettings

    def __init__(
        self, key: SecretStr | None, base_url: str, settings: StockSettings, http_client: httpx.Client | None = None
    ) -> None:
        if not key or not key.get_secret_value():
            raise ConfigError(
                f"--video {self.name} needs {self.env_var} (a free key from {self.signup}); set it or "
                "use --video offline."
            )
        self.key = key.get_secret_value()
        self.base_url = base_url.rstrip("/")
        self.min_width, self.per_page = settings.stock_min_width, settings.stock_per_page
        self._client = http_client or httpx.Client(timeout=settings.stock_timeout, follow_redirects=True)

    @classmethod
    def from_settings(cls, settings: StockSettings, shared: Shared | None = None) -> Self:
        return cls(getattr(settings, f"{cls.name}_api_key"), getattr(settings, f"{cls.name}_base_url"), settings)

    def footage(self, id: object, picked: File, seconds: float | None, **credit: str | None) -> Footage:
        """A candidate clip: `picked` is its best file's (width, height, URL); `credit` names who made it and where."""
        width, height, url = picked
        return Footage(
            scene=0,
            source=self.name,
            id=str(id),
            url=url,
            width=width,
            height=height,
            seconds=float(seconds or 0),
            **credit,
        )

    def search_request(self, query: str, per_page: int) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(path under the base URL, query parameters, headers) of one search."""
        raise NotImplementedError

    def candidates(self, body: dict[str, Any], min_width: int) -> list[Footage]:
        """The usable clips of a search answer, in the vendor's order of relevance."""
        raise NotImplementedError

    def plan(self, script: Script, fmt: VideoFormat, store: AssetStore, fresh: bool = False) -> list[Footage | None]:
        """One clip per scene, in scene order, each the best not yet taken by an earlier scene; None where nothing
        fits even with broader terms (that scene's first frame is then animated offline, and the run says so)."""
        taken: set[str] = set()
        picks: list[Footage | None] = []
        tags = [t for t in script.tags if t.lower() != "shorts"]
        for scene in script.scenes:
            terms = scene_terms(scene)
            pick = self._first_fit(scene, terms, taken, store, fresh)
            if pick is None and (wider := broader_terms(terms, tags)):
                pick = self._first_fit(scene, wider, taken, store, fresh)
                if pick:
                    log.info(
                        "  scene %d: no %s clip for %s, so took one for the broader %r",
                        scene.index,
                        self.label,
                        _listed(terms),
                        pick.query,
                    )
            if pick is None:
                log.warning(
                    "  scene %d: no %s clip of %g s or more for %s, so its first frame is animated offline",
                    scene.index,
                    self.label,
                    scene.seconds,
                    _listed(terms + broader_terms(terms, tags)),
                )
            else:
                taken.add(pick.id)
            picks.append(pick)
        return picks

    def make_clip(self, order: ClipOrder, dest: Path) -> Made:
        """Download the scene's clip (once: it is kept in the store) and fit it to the scene."""
        scene, fmt, footage, store = order.scene, order.fmt, order.footage, order.store
        if footage is None or store is None:  # animate_scene gives both, and animates a scene with none offline
            raise ValueError(f"a {self.label} clip is fitted from the footage picked for its scene")
        fit_video(self._download(footage, store), dest, fmt, scene.seconds)
        return Made()

    def _first_fit(
        self, scene: Scene, queries: list[str], taken: set[str], store: AssetStore, fresh: bool
    ) -> Footage | None:
        for query in queries:
            for found in self._search(query, store, fresh):
                if found.id not in taken and found.seconds >= scene.seconds:
                    return found.model_copy(update={"scene": scene.index, "query": query})
        return None

    def _search(self, query: str, store: AssetStore, fresh: bool) -> list[Footage]:
        """The usable clips for `query`; the answer is kept in the store, so a rerun picks the same clips."""
        path, params, headers = self.search_request(query, self.per_page)
        key = content_key(
            "stock-search",
            source=self.name,
            base=self.base_url,
            path=path,
            params={k: v for k, v in params.items() if k != "key"},
        )
        cached = store.path("stock-search", key, ".json")
        if fresh or not store.find("stock-search", key, ".json"):
            body = self._get_json(path, params, headers, query)
            with atomic_path(cached) as tmp:
                tmp.write_text(json.dumps(body), encoding="utf-8")
            store.saved(cached)
        return self.candidates(json.loads(cached.read_text(encoding="utf-8")), self.min_width)

    def _get_json(self, path: str, params: dict[str, Any], headers: dict[str, str], query: str) -> dict[str, Any]:
        try:
            response = self._client.get(self.base_url + path, params=params, headers=headers)
        except httpx.HTTPError as exc:  # the text could hold the URL, and Pixabay's holds the key: name the type only
            raise ProviderError(
                f"{self.label} could not be reached ({type(exc).__name__}); check the network or "
                f"{self.name.upper()}_BASE_URL, and rerun.",
                retry_safe=True,
            ) from None
        self._check(response, f"searching for {query!r}", response.text)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ProviderError(
                f"{self.label} answered the search for {query!r} with something other than JSON; rerun later.",
                retry_safe=True,
            )
        return body

    def _download(self, footage: Footage, store: AssetStore) -> Path:
        key = content_key("stock", source=footage.source, id=footage.id, url=footage.url)
        path = store.path("stock", key, ".mp4")
        if store.find("stock", key, ".mp4"):
            return path
        if footage.url is None:  # a search gives every clip it lists a URL
            raise ValueError(f"{self.label} clip {footage.id} has no URL to download")
        what = f"downloading clip {footage.id}"
        try:
            with atomic_path(path) as tmp, self._client.stream("GET", footage.url) as response:
                self._check(response, what)
                with tmp.open("wb") as out:
                    for chunk in response.iter_bytes(1 << 16):
                        out.write(chunk)
        except httpx.HTTPError as exc:
            raise ProviderError(
                f"{self.label} broke off while {what} ({type(exc).__name__}); rerun to try again.", retry_safe=True
            ) from None
        if not store.find("stock", key, ".mp4"):
            raise ProviderError(
                f"{self.label} sent an empty file for clip {footage.id}; rerun to try again.", retry_safe=True
            )
        return store.saved(path)

    def _check(self, response: httpx.Response, what: str, text: str = "") -> None:
        status = response.status_code
        # Pixabay answers a bad key with 400 and "[ERROR 400] Invalid or missing API key".
        if status in (401, 403) or (status == 400 and "key" in text.lower()):
            raise ConfigError(
                f"{self.label} refused {self.env_var} ({status}) while {what}; check the key "
                f"({self.signup}) or use --video offline."
            )
        if status == 429:
            raise ProviderError(
                f"{self.label} says too many requests (429) while {what}; wait a while and rerun, "
                "which reuses what was already found.",
                retry_safe=True,
            )
        if status >= 400:
            raise ProviderError(
                f"{self.label} answered {status} while {what}; rerun later or use --video offline.",
                retry_safe=status >= 500,
            )


def _listed(terms: list[str]) -> str:
    quoted = [repr(t) for t in terms]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else (quoted[0] if quoted else "its terms")
