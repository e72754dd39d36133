"""The job's private temp folder: Flink's unpacked jars go there, not to /tmp, and leftovers of dead jobs go."""

import os
import subprocess
import sys

import flink_job


def made_by_job(root, pid: int, started) -> None:
    """A temp folder as a job leaves it: named by its pid, with the `.owner` file naming the pid and start time."""
    folder = root / str(pid)
    folder.mkdir(parents=True)
    (folder / "flink-rpc-akka.jar").write_bytes(b"x" * 1024)
    (folder / flink_job.TMP_OWNER).write_text(f"{pid} {started}\n")


def test_private_tmp_dir_removes_only_folders_that_dead_jobs_made(tmp_path):
    root = tmp_path / "tmp"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    unmarked = subprocess.Popen([sys.executable, "-c", "pass"])
    unmarked.wait()
    try:
        made_by_job(root, dead.pid, 12345)
        made_by_job(root, live.pid, flink_job.process_start_time(live.pid))
        # The pid of a live process, but the start time of a job that used the same number before: that job is gone.
        reused = os.getppid()
        made_by_job(root, reused, flink_job.process_start_time(reused) - 1)
        # Named like a pid, but no job made it (someone's own folder): never deleted.
        (root / str(unmarked.pid)).mkdir()
        (root / str(unmarked.pid) / "keep.txt").write_text("mine")
        (root / "notes").mkdir()
        mine = flink_job.private_tmp_dir(str(root))
        assert mine == str(root / str(os.getpid())) and os.path.isdir(mine)
        assert (root / str(os.getpid()) / flink_job.TMP_OWNER).read_text().split() == [
            str(os.getpid()), str(flink_job.process_start_time(os.getpid()))], "the job marks its own folder"
        assert not (root / str(dead.pid)).exists(), "the folder of a job that is gone is removed"
        assert not (root / str(reused)).exists(), "a job whose pid now names another process is gone too"
        assert (root / str(live.pid) / "flink-rpc-akka.jar").exists(), "a running job keeps its folder"
        assert (root / str(unmarked.pid) / "keep.txt").exists(), "a folder no job made stays, whatever its name"
        assert (root / "notes").exists(), "only folders named by a process id are touched"
    finally:
        live.kill()
        live.wait()

