"""The voice worker process as a person's terminal sees it: Ctrl-C and a killed run leave no traceback behind."""

import json
import signal
import subprocess
import sys


def start_espeak() -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "-m", "pipeline.providers.offline.espeak_engine"],
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert "error" not in json.loads(worker.stdout.readline())  # it announced itself
    return worker


def test_ctrl_c_leaves_the_worker_to_the_run_and_prints_nothing(tmp_path):
    worker = start_espeak()
    worker.send_signal(signal.SIGINT)  # as Ctrl-C reaches the whole process group
    worker.stdin.write(
        json.dumps({"text": "Still here.", "voice": None, "speed": 1.0, "dest": str(tmp_path / "a.wav")}) + "\n"
    )
    worker.stdin.flush()
    reply = json.loads(worker.stdout.readline())
    worker.stdin.close()  # what the run does when it stops
    assert worker.wait(timeout=30) == 0 and len(reply["words"]) == 2 and (tmp_path / "a.wav").stat().st_size > 0
    assert "Traceback" not in worker.stderr.read()


def test_a_worker_whose_run_was_killed_ends_quietly(tmp_path):
    worker = start_espeak()
    worker.stdout.close()  # the run is gone (SIGKILL): nobody reads the replies any more
    worker.stdin.write(
        json.dumps({"text": "Anyone?", "voice": None, "speed": 1.0, "dest": str(tmp_path / "b.wav")}) + "\n"
    )
    worker.stdin.close()
    assert worker.wait(timeout=30) == 0
    assert "Traceback" not in worker.stderr.read()
