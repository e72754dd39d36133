"""Helpers for the integration tests: topics, processes (always killed), polling the output folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable


def require_env() -> tuple[str, str]:
    import pytest

    bs = os.environ.get("PIPELINE_BOOTSTRAP")
    jar = os.environ.get("PIPELINE_CONNECTOR_JAR")
    missing = [n for n, v in (("PIPELINE_BOOTSTRAP", bs), ("PIPELINE_CONNECTOR_JAR", jar)) if not v]
    if missing:
        pytest.fail("integration tests need env " + " and ".join(missing) +
                    " (broker address, e.g. 127.0.0.1:9092, and the flink-sql-connector-kafka jar path)",
                    pytrace=False)
    if not os.path.isfile(jar):
        pytest.fail(f"PIPELINE_CONNECTOR_JAR={jar} does not exist", pytrace=False)
    return bs, jar


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def create_topic(bs: str, partitions: int = 3, prefix: str = "it") -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    admin = AdminClient({"bootstrap.servers": bs})
    fs = admin.create_topics([NewTopic(name, partitions, 1, config={"max.message.bytes": str(4 * 1024 * 1024)})])
    for f in fs.values():
        f.result(timeout=30)
    # wait until the metadata shows every partition with a leader
    deadline = time.time() + 30
    while time.time() < deadline:
        md = admin.list_topics(name, timeout=10)
        t = md.topics.get(name)
        if t and t.error is None and len(t.partitions) == partitions and all(
                p.leader >= 0 for p in t.partitions.values()):
            return name
        time.sleep(0.2)
    raise RuntimeError(f"topic {name} not ready")


def delete_topics(bs: str, names: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    if not names:
        return
    try:
        for f in AdminClient({"bootstrap.servers": bs}).delete_topics(names).values():
            f.result(timeout=30)
    except Exception:  # noqa: BLE001
        pass


class Proc:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, args: list[str], log_path: str, cwd: str, env: dict | None = None):
        self.log_path = log_path
        self.log = open(log_path, "ab")
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen(args, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True, env=e)

    @property
    def pid(self) -> int:
        return self.p.pid

    def alive(self) -> bool:
        return self.p.poll() is None

    def text(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def kill9(self) -> None:
        """SIGKILL the whole process group (python + its gateway JVM)."""
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait, then SIGKILL the group; returns the exit code."""
        if self.alive():
            try:
                os.kill(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.p.pid, signal.SIGKILL)  # leftovers of the group (the JVM), if any
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        self.log.close()
        return self.p.returncode


def wait_for(pred, timeout: float, interval: float = 1.0, what: str = "condition", proc: Proc | None = None):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        if proc is not None and not proc.alive():
            raise AssertionError(f"process exited while waiting for {what}:\n{proc.text()[-4000:]}")
        time.sleep(interval)
    tail = ("\n" + proc.text()[-4000:]) if proc is not None else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last}){tail}")


def checkpoint_count(state_dir: str) -> int:
    import glob

    return len(glob.glob(os.path.join(state_dir, "*", "chk-*", "_metadata")))


def read_manifest(path: str) -> dict:
    with open(path) as f:
        return json.load(f)
