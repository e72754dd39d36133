"""The job's private temp folder: Flink's unpacked jars go there, not to /tmp, and leftovers of dead jobs go."""

import os
import subprocess
import sys

import flink_job


def test_private_tmp_dir_removes_only_folders_of_dead_jobs(tmp_path):
    root = tmp_path / "tmp"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        for pid in (dead.pid, live.pid):
            (root / str(pid)).mkdir(parents=True)
            (root / str(pid) / "flink-rpc-akka.jar").write_bytes(b"x" * 1024)
        (root / "notes").mkdir()
        mine = flink_job.private_tmp_dir(str(root))
        assert mine == str(root / str(os.getpid())) and os.path.isdir(mine)
        assert not (root / str(dead.pid)).exists(), "the folder of a job that is gone is removed"
        assert (root / str(live.pid) / "flink-rpc-akka.jar").exists(), "a running job keeps its folder"
        assert (root / "notes").exists(), "only folders named by a process id are touched"
    finally:
        live.kill()
        live.wait()
