"""One clear sentence and a non-zero exit for missing prerequisites (no broker needed)."""

import os
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(script, *args, timeout=60):
    t0 = time.time()
    p = subprocess.run([sys.executable, os.path.join(ROOT, script), *args], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr.strip(), time.time() - t0


def test_job_missing_connector_jar(tmp_path):
    env_jar = os.environ.pop("PIPELINE_CONNECTOR_JAR", None)
    try:
        rc, _, err, _ = run("flink_job.py", "--connector-jar", str(tmp_path / "nope.jar"))
    finally:
        if env_jar is not None:
            os.environ["PIPELINE_CONNECTOR_JAR"] = env_jar
    assert rc == 2 and err.count("\n") == 0 and "connector jar" in err and "does not exist" in err


def test_job_unreachable_broker(tmp_path):
    jar = tmp_path / "fake.jar"
    jar.write_bytes(b"x")
    rc, _, err, took = run("flink_job.py", "--connector-jar", str(jar), "--bootstrap-servers", "127.0.0.1:1",
                           "--connect-timeout", "2", "--rest-port", "0")
    assert rc == 2 and "unreachable" in err and err.count("\n") == 0 and took < 30


def test_job_busy_rest_port(tmp_path):
    jar = tmp_path / "fake.jar"
    jar.write_bytes(b"x")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        rc, _, err, _ = run("flink_job.py", "--connector-jar", str(jar), "--rest-port", str(port))
    finally:
        s.close()
    assert rc == 2 and f"port {port}" in err and "busy" in err


def test_generator_unreachable_broker():
    rc, _, err, took = run("data_generator.py", "--bootstrap-servers", "127.0.0.1:1", "--connect-timeout", "2",
                           "--count", "10")
    assert rc == 2 and "unreachable" in err and err.count("\n") == 0 and took < 30
