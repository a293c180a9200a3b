"""What the paid clip providers' tests share: a scene, this test's store and ledger, and a run killed mid-wait."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pipeline import (
    AssetStore,
    ClipAsset,
    FrameAsset,
    ProviderError,
    Scene,
    Settings,
    animate_scene,
    build_provider,
)
from pipeline.state.ledger import Ledger


def scene(index: int = 1, seconds: float = 2.5, motion: str = "slow push in over the reef") -> Scene:
    return Scene(
        index=index,
        narration="An octopus hides.",
        first_frame_prompt=f"an octopus on a reef, scene {index}",
        motion_prompt=motion,
        seconds=seconds,
    )


def store() -> AssetStore:
    return AssetStore(Settings().home_dir / "assets")


def ledger() -> Ledger:
    return Ledger(Settings().paths.ledger)


def assert_secret_kept(fragment: str, error: Exception) -> None:
    """A key (known by `fragment`) is in neither the error's message nor the ledger's file."""
    assert fragment not in str(error)
    assert fragment not in Settings().paths.ledger.read_bytes().decode("latin-1")


def animate_with(provider: str, the_scene: Scene, frame: FrameAsset, **kwargs) -> ClipAsset:
    """The scene's clip from `provider`, built from this test's settings as a run would build it."""
    settings = Settings()
    return animate_scene(
        the_scene, frame, settings.video_format, build_provider("video", provider, settings), store(), **kwargs
    )


CRASHING_RUN = """
import sys
from pathlib import Path
from pipeline import AssetStore, FrameAsset, Scene, Settings, animate_scene, build_provider
settings = Settings()
frame = FrameAsset.model_validate_json(Path(sys.argv[1]).read_text())
scene = Scene.model_validate_json(Path(sys.argv[2]).read_text())
animate_scene(scene, frame, settings.video_format, build_provider("video", sys.argv[3], settings),
              AssetStore(settings.home_dir / "assets"))
"""


def kill_mid_wait(
    provider: str, frame: FrameAsset, the_scene: Scene, tmp: Path, waiting: Callable[[], bool], timeout: float = 60
) -> None:
    """Animate the scene in a child process and SIGKILL it once `waiting()` says it is waiting on its task, so no
    cleanup runs, as when a machine dies."""
    (tmp / "frame.json").write_text(frame.model_dump_json())
    (tmp / "scene.json").write_text(the_scene.model_dump_json())
    run = subprocess.Popen(
        [sys.executable, "-c", CRASHING_RUN, str(tmp / "frame.json"), str(tmp / "scene.json"), provider],
        env=os.environ,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + timeout
        while not waiting():
            assert run.poll() is None, run.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        run.kill()
        run.wait()


def wait_in_thread(
    make: Callable[[], object], waiting: Callable[[], bool], timeout: float = 20
) -> tuple[threading.Thread, list[ProviderError]]:
    """Run `make` in another thread until `waiting()` says it waits on its task; the thread, and a list that will
    hold the ProviderError it ends with."""
    errors: list[ProviderError] = []

    def work() -> None:
        try:
            make()
        except ProviderError as exc:
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    deadline = time.monotonic() + timeout
    while not waiting():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return worker, errors
