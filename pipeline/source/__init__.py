"""Where a Short's facts come from: a Wikipedia article in the request's language, and its free pictures."""

from pipeline.source.models import Source, SourcePicture, SourceSection
from pipeline.source.pictures import scene_pictures, used_source
from pipeline.source.step import find_source

__all__ = ["Source", "SourcePicture", "SourceSection", "find_source", "scene_pictures", "used_source"]
