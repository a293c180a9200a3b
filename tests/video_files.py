"""encode_frames for tests that need a real video file: the benchmarks' own (benchmarks/encode.py, loaded by path,
as benchmarks/ is a folder of scripts, not a package)."""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("encode", Path(__file__).parents[1] / "benchmarks" / "encode.py")
_encode = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_encode)
encode_frames = _encode.encode_frames
still_frames = _encode.still_frames
