"""What a source step finds: an article's text and its free pictures, with what crediting them needs."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from pipeline.models import Model

TEXT_LICENCE = "CC BY-SA 4.0"  # Wikipedia's text licence, which the credits name
TEXT_LICENCE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"


class SourceSection(Model):
    """A section of the article kept for its facts: its heading and its plain text."""

    title: str
    text: str


class SourcePicture(Model):
    """A picture of the article hosted on Wikimedia Commons under a free licence, downloaded into the asset store."""

    file: str  # the file's title on Commons, e.g. "File:Octopus2.jpg"
    page: str  # the file's page, which its licence asks to link
    url: str  # the scaled copy downloaded
    author: str
    licence: str  # its short name, e.g. "CC BY-SA 3.0" or "Public domain"
    licence_url: str | None = None
    version: str | None = None  # the file version's upload time, as Commons gives it
    description: str = ""
    width: int
    height: int
    path: Path | None = None  # the downloaded copy, in the asset store
    lead: bool = False  # the article's own lead picture

    def credit(self) -> str:
        """The attribution line: file, author, licence and file page."""
        return f"Picture: {self.file.split(':', 1)[-1]} by {self.author}, {self.licence}, {self.page}"


class Source(Model):
    """The article a Short's facts come from: its text (lead and first sections), URL, revision and licence."""

    site: str = "Wikipedia"
    language: str
    title: str
    url: str
    revision: int
    licence: str = TEXT_LICENCE
    licence_url: str = TEXT_LICENCE_URL
    lead: str
    sections: list[SourceSection] = Field(default_factory=list)
    pictures: list[SourcePicture] = Field(default_factory=list)

    def credit(self) -> str:
        """The attribution line of the text: title, URL and licence."""
        return f"Text: “{self.title}”, {self.site} ({self.url}), {self.licence}"

    def credits(self) -> list[str]:
        """The text's line, then each picture's."""
        return [self.credit(), *(picture.credit() for picture in self.pictures)]
