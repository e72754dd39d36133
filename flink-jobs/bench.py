#!/usr/bin/env python3
"""Measure the pipeline on a real broker: generator + job throughput, commit latency, memory.

  python bench.py --bootstrap-servers 127.0.0.1:9092 --connector-jar JAR --events 1000000           # throughput
  python bench.py --bootstrap-servers ... --connector-jar JAR --rate 1000 --duration 60              # latency

Creates a fresh 3-partition topic, starts flink_job.py, waits until it runs, starts data_generator.py, and
reports: generator events/s, job events/s (records read by the Kafka source, from the REST API, over the time
from the generator's start to the last record read), time until every record is accounted for in the
committed files, latency of committed aggregate rows (time the file became visible - window_end, p50/p99), and the peak RSS
of the generator, the job's python process and its JVM. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import calendar
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import verify_outputs  # noqa: E402


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(x) for x in out.split()]
    except Exception:  # noqa: BLE001
        return []


def rest(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
        return json.loads(r.read())


def source_read(port: int) -> int:
    try:
        jid = rest(port, "/jobs")["jobs"][0]["id"]
        for v in rest(port, f"/jobs/{jid}")["vertices"]:
            if v["name"].startswith("Source"):
                return int(v["metrics"]["read-records"])
    except Exception:  # noqa: BLE001
        pass
    return -1


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, int(round(p / 100 * (len(xs) - 1)))))
    return xs[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    ap.add_argument("--connector-jar", default=os.environ.get("PIPELINE_CONNECTOR_JAR"))
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--rate", type=float, default=0)
    ap.add_argument("--duration", type=float)
    ap.add_argument("--rest-port", type=int, default=8081)
    ap.add_argument("--parallelism", type=int, default=1)
    ap.add_argument("--checkpoint-interval", type=float, default=10)
    ap.add_argument("--workdir")
    ap.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args()

    from confluent_kafka.admin import AdminClient, NewTopic

    work = a.workdir or tempfile.mkdtemp(prefix="pipeline-bench-")
    os.makedirs(work, exist_ok=True)
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": a.bootstrap_servers})
    for f in admin.create_topics([NewTopic(topic, 3, 1)]).values():
        f.result(30)
    out, state = os.path.join(work, "output"), os.path.join(work, "state")
    job_log = open(os.path.join(work, "job.log"), "wb")
    job = subprocess.Popen([sys.executable, os.path.join(HERE, "flink_job.py"), "--bootstrap-servers",
                            a.bootstrap_servers, "--topic", topic, "--output", out, "--state-dir", state,
                            "--connector-jar", a.connector_jar, "--rest-port", str(a.rest_port), "--group-id",
                            topic, "--alerts-topic", topic + "-alerts", "--parallelism", str(a.parallelism),
                            "--checkpoint-interval", str(a.checkpoint_interval)],
                           stdout=job_log, stderr=subprocess.STDOUT, start_new_session=True)
    gen = None
    peak = {"generator": 0, "job_python": 0, "job_jvm": 0}
    try:
        t_start = time.time()
        while source_read(a.rest_port) < 0:
            if job.poll() is not None or time.time() - t_start > 180:
                raise SystemExit("job did not start: " + open(os.path.join(work, "job.log")).read()[-3000:])
            time.sleep(0.5)
        time.sleep(3)
        man = os.path.join(work, "manifest.json")
        gargs = [sys.executable, os.path.join(HERE, "data_generator.py"), "--bootstrap-servers",
                 a.bootstrap_servers, "--topic", topic, "--rate", str(a.rate), "--manifest", man,
                 "--final-watermark", "--quiet"]
        gargs += ["--duration", str(a.duration)] if a.duration else ["--count", str(a.events)]
        t_gen = time.time()
        gen = subprocess.Popen(gargs, stdout=subprocess.DEVNULL, start_new_session=True)
        t_gen_end = t_read = t_acc = None
        expected = None
        seen: dict[str, float] = {}  # committed aggregates file -> first time it was visible
        while time.time() - t_gen < a.timeout:
            time.sleep(0.5)
            now = time.time()
            for fpath in glob.glob(os.path.join(out, "aggregates", "*.jsonl")):
                seen.setdefault(fpath, now)
            peak["generator"] = max(peak["generator"], rss_kb(gen.pid))
            peak["job_python"] = max(peak["job_python"], rss_kb(job.pid))
            for c in children(job.pid):
                peak["job_jvm"] = max(peak["job_jvm"], rss_kb(c))
            if t_gen_end is None and gen.poll() is not None:
                t_gen_end = time.time()
                with open(man) as f:
                    m = json.load(f)
                expected = m["total_sent"]
            if expected is not None:
                r = source_read(a.rest_port)
                if t_read is None and r >= expected + m["watermark_sentinels"]:
                    t_read = time.time()  # REST metrics refresh every second (metrics.fetcher.update-interval)
                rep = verify_outputs.check(out, expected)
                if rep["accounted"] == expected:
                    t_acc = time.time()
                    break
        rep = verify_outputs.check(out, expected)
        lat = []
        for fpath, mt in seen.items():  # visible (committed) time, to +-0.5 s
            if t_gen_end is not None and mt > t_gen_end:
                continue  # rows fired by the end-of-run sentinel, not by the flow of time
            with open(fpath) as fh:
                for line in fh:
                    we = datetime.strptime(json.loads(line)["window_end"], "%Y-%m-%dT%H:%M:%S.%fZ")
                    lat.append(mt - calendar.timegm(we.timetuple()))
        res = {
            "events": expected,
            "generator_events_per_s": round(m["rate_per_s"], 1),
            "generator_wall_s": round(t_gen_end - t_gen, 2),
            "job_read_all_s_after_generator_start": round(t_read - t_gen, 1) if t_read else None,
            "job_events_per_s": round(expected / (t_read - t_gen)) if t_read else None,
            "accounted_s_after_generator_start": round(t_acc - t_gen, 1) if t_acc else None,
            "report_ok": rep["ok"],
            "rss_mb_peak": {k: round(v / 1024) for k, v in peak.items()},
        }
        if a.rate and lat:
            res["commit_latency_s"] = {"p50": round(pct(lat, 50), 2), "p99": round(pct(lat, 99), 2),
                                       "rows": len(lat)}
        print(json.dumps(res, indent=1))
        return 0 if rep["ok"] else 1
    finally:
        if gen is not None and gen.poll() is None:
            os.killpg(gen.pid, signal.SIGKILL)
        if job.poll() is None:
            os.kill(job.pid, signal.SIGTERM)
            try:
                job.wait(30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(job.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for f in admin.delete_topics([topic, topic + "-alerts"]).values():
            try:
                f.result(30)
            except Exception:  # noqa: BLE001
                pass


if __name__ == "__main__":
    sys.exit(main())
