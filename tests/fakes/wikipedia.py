"""A fake of Wikipedia's Action API (/LANG/w/api.php) and of Commons' scaled pictures on 127.0.0.1.

It answers the three queries the source step makes, in the API's own shapes (formatversion=2): a generator search
with each result's disambiguation flag, an article's plain text with its revision, lead picture and image list, and
image info with licence metadata. Articles: an English "Octopus" and a French "Pieuvre" (realistic lead and sections,
citations and pronunciations included), and an English disambiguation page "Mercury" ranked above "Mercury
(planet)". Among the octopus pictures is a non-free logo kept on Wikipedia itself and a CC BY-NC photo on Commons,
which must never be shown. Point SHORTS_WIKIPEDIA_URL at `url` ({language} stays in it).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw

from fakes.loopback import LoopbackFake, send, send_file


@dataclass
class FakeFile:
    name: str
    licence: str
    artist: str = '<a href="//commons.wikimedia.org/wiki/User:Jane">Jane Diver</a>'
    repository: str = "shared"  # "local": kept on the Wikipedia itself, as non-free files are
    non_free: bool = False
    size: tuple[int, int] = (1280, 853)
    colour: tuple[int, int, int] = (200, 90, 40)


@dataclass
class FakeArticle:
    title: str
    words: tuple[str, ...]  # a search whose text holds one of these finds it
    text: str
    revision: int
    lead_image: str | None = None
    files: list[str] = field(default_factory=list)
    disambiguation: bool = False


OCTOPUS_TEXT = """\
The octopus (pl.: octopuses or octopodes[a]) is a soft-bodied, eight-limbed mollusc of the order Octopoda \
(/ɒkˈtɒpədə/, ok-TOP-ə-də[3]). The order consists of some 300 species and is grouped within the class Cephalopoda \
with squids, cuttlefish, and nautiloids. The soft body can radically alter its shape, enabling octopuses to squeeze \
through small gaps. Octopuses have a complex nervous system and excellent sight. They are among the most \
intelligent and behaviourally diverse of all invertebrates.[4] Octopuses have three hearts and blue blood. Most \
species grow quickly, mature early, and are short-lived. All octopuses are venomous, but only the blue-ringed \
octopuses are known to be deadly to humans.

== Etymology ==
The scientific Latin term octopus was derived from Ancient Greek ὀκτώπους, a compound form of ὀκτώ (oktō, 'eight') \
and πούς (pous, 'foot'). The standard pluralised form of octopus in English is octopuses.[5]

== Camouflage and colour change ==
Octopuses use camouflage when hunting and to avoid predators. They change colour in as little as 200 milliseconds. \
To do this, they use specialised skin cells called chromatophores. Each chromatophore is a small sac of pigment \
ringed by muscles. Chromatophores contain yellow, orange, red, brown, or black pigments; most species have three of \
these types. Reflective cells called iridophores add blue and green. White leucophores reflect the light around \
them. An octopus can also raise small bumps called papillae to copy the texture of rocks and seaweed.

== References ==
Norman, M. (2000). Cephalopods: A World Guide. ConchBooks.
"""

PIEUVRE_TEXT = """\
Les pieuvres (ou poulpes, /pulp/) sont des mollusques céphalopodes de l'ordre des Octopoda. On en connaît environ \
300 espèces, qui vivent dans tous les océans.[1] Une pieuvre possède huit bras garnis de ventouses et un bec corné \
au centre. Son corps mou lui permet de se glisser dans des fentes très étroites. Les pieuvres ont trois cœurs et un \
sang bleu. Elles sont considérées comme les invertébrés les plus intelligents.

== Camouflage ==
La pieuvre change de couleur en quelques dixièmes de seconde. Sa peau contient des milliers de chromatophores, de \
petits sacs de pigments entourés de muscles. En les contractant, elle fait apparaître du jaune, du rouge, du brun ou \
du noir. Des cellules réfléchissantes ajoutent des reflets bleus et verts. Elle peut aussi modifier la texture de sa \
peau pour imiter une roche ou une algue.

== Références ==
Norman, M. (2000). Cephalopods: A World Guide.
"""

FILES = {
    f.name: f
    for f in [
        FakeFile("Octopus2.jpg", "CC BY-SA 3.0", colour=(190, 80, 50)),
        FakeFile("Octopus camouflage.jpg", "Public domain", artist="NOAA", colour=(60, 120, 90)),
        FakeFile("Octopus logo.jpg", "Fair use", repository="local", non_free=True, colour=(255, 0, 255)),
        FakeFile("Octopus aquarium.jpg", "CC BY-NC 2.0", colour=(0, 255, 255)),
        FakeFile("Octopus range map.svg", "CC BY-SA 4.0"),
        FakeFile("Mercury planet.jpg", "Public domain", artist="NASA", colour=(120, 120, 120)),
    ]
}

ARTICLES = {
    "en": [
        FakeArticle(
            "Mercury",
            ("mercury",),
            "Mercury may refer to:\n\n== Science ==\nMercury (planet)",
            111,
            disambiguation=True,
        ),
        FakeArticle(
            "Mercury (planet)",
            ("mercury",),
            "Mercury is the first planet from the Sun and the smallest in "
            "the Solar System. A year on Mercury lasts 88 days. It has no moons. Its surface is covered in "
            "craters, much like the Moon. Days on Mercury are hot, and nights are very cold.",
            222,
            lead_image="Mercury_planet.jpg",
            files=["File:Mercury planet.jpg"],
        ),
        FakeArticle(
            "Octopus",
            ("octopus", "octopuses"),
            OCTOPUS_TEXT,
            1_234_567,
            lead_image="Octopus2.jpg",
            files=[
                "File:Octopus logo.jpg",
                "File:Octopus range map.svg",
                "File:Octopus aquarium.jpg",
                "File:Octopus2.jpg",
                "File:Octopus camouflage.jpg",
            ],
        ),
    ],
    "fr": [
        FakeArticle(
            "Pieuvre",
            ("pieuvre", "pieuvres", "poulpe"),
            PIEUVRE_TEXT,
            7_654_321,
            lead_image="Octopus2.jpg",
            files=["Fichier:Octopus2.jpg", "Fichier:Octopus logo.jpg", "Fichier:Octopus camouflage.jpg"],
        ),
    ],
}


class FakeWikipedia(LoopbackFake):
    """Start it and set SHORTS_WIKIPEDIA_URL to `url`; `requests` lists (path, params, User-Agent) of each call."""

    @property
    def url(self) -> str:
        return self.root + "/{language}"

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append({"path": parts.path, "params": params, "agent": h.headers.get("User-Agent", "")})
        if parts.path.startswith("/upload/"):
            return self._picture(h, parts.path.removeprefix("/upload/").replace("%20", " "))
        language, _, rest = parts.path.strip("/").partition("/")
        if rest != "w/api.php" or params.get("action") != "query":
            return send(h, 404, {"error": {"code": "notfound"}})
        articles = ARTICLES.get(language, [])
        if "gsrsearch" in params:
            return send(h, 200, self._search(language, articles, params["gsrsearch"]))
        if "pageids" in params:
            return send(h, 200, self._page(language, articles[int(params["pageids"]) - 1]))
        if "titles" in params:
            return send(h, 200, self._image_info(language, params["titles"].split("|")))
        return send(h, 200, {"batchcomplete": True})

    def _search(self, language: str, articles: list[FakeArticle], query: str) -> dict:
        words = query.casefold().split()
        found = [(i, a) for i, a in enumerate(articles, start=1) if any(w in words for w in a.words)]
        if not found:
            return {"batchcomplete": True}
        return {
            "batchcomplete": True,
            "query": {
                "pages": [
                    {
                        "pageid": i,
                        "ns": 0,
                        "title": a.title,
                        "index": rank,
                        "lastrevid": a.revision,
                        "fullurl": f"https://{language}.wikipedia.org/wiki/{a.title.replace(' ', '_')}",
                        **({"pageprops": {"disambiguation": ""}} if a.disambiguation else {}),
                    }
                    for rank, (i, a) in enumerate(found, start=1)
                ]
            },
        }

    def _page(self, language: str, article: FakeArticle) -> dict:
        page = {
            "pageid": 1,
            "ns": 0,
            "title": article.title,
            "extract": article.text,
            "revisions": [{"revid": article.revision, "parentid": article.revision - 1}],
            "images": [{"ns": 6, "title": name} for name in article.files],
        }
        if article.lead_image:
            page["pageimage"] = article.lead_image
        return {"batchcomplete": True, "query": {"pages": [page]}}

    def _image_info(self, language: str, titles: list[str]) -> dict:
        pages = []
        for title in titles:
            name = title.split(":", 1)[-1]
            f = FILES.get(name)
            if f is None:
                pages.append({"ns": 6, "title": title, "missing": True})
                continue
            width, height = f.size
            thumb = (1280, round(height * 1280 / width)) if width > 1280 else (width, height)
            meta = {
                "LicenseShortName": {"value": f.licence},
                "Artist": {"value": f.artist},
                "ImageDescription": {"value": f"<i>{name}</i>, a photo"},
            }
            if f.non_free:
                meta["NonFree"] = {"value": "true"}
            host = "commons.wikimedia.org" if f.repository == "shared" else f"{language}.wikipedia.org"
            pages.append(
                {
                    "ns": 6,
                    "title": f"File:{name}",
                    "imagerepository": f.repository,
                    "imageinfo": [
                        {
                            "timestamp": "2020-05-01T10:00:00Z",
                            "size": 1,
                            "width": width,
                            "height": height,
                            "thumburl": f"{self.root}/upload/{name.replace(' ', '%20')}",
                            "thumbwidth": thumb[0],
                            "thumbheight": thumb[1],
                            "url": f"{self.root}/upload/{name.replace(' ', '%20')}",
                            "descriptionurl": f"https://{host}/wiki/File:{name.replace(' ', '_')}",
                            "mime": "image/jpeg",
                            "extmetadata": meta,
                        }
                    ],
                }
            )
        return {"batchcomplete": True, "query": {"pages": pages}}

    def _picture(self, h: BaseHTTPRequestHandler, name: str) -> None:
        f = FILES.get(name)
        if f is None:
            return send(h, 404, {"error": "no such file"})
        send_file(h, picture_bytes(f), "image/jpeg")


def picture_bytes(f: FakeFile) -> bytes:
    """A photo-like JPEG in the file's colour: a flat colour a test can find in a frame, and a darker disc."""
    image = Image.new("RGB", f.size, f.colour)
    w, h = f.size
    ImageDraw.Draw(image).ellipse((w * 0.35, h * 0.3, w * 0.65, h * 0.7), fill=tuple(c // 2 for c in f.colour))
    data = io.BytesIO()
    image.save(data, "JPEG", quality=90)
    return data.getvalue()
