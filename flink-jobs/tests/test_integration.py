"""End-to-end tests: real Kafka broker (env PIPELINE_BOOTSTRAP), real PyFlink job (connector jar from env
PIPELINE_CONNECTOR_JAR). Each scenario has its own topics, output folder and state folder; every process
started here is killed at the end, pass or fail."""

from __future__ import annotations

import json
import os
import time
import urllib.request

import pytest
from harness import (
    PY,
    ROOT,
    Proc,
    checkpoint_count,
    create_topic,
    delete_topics,
    free_port,
    read_manifest,
    require_env,
    wait_for,
)
from reference import window_aggregates

import verify_outputs
from data_generator import CONTROL_HEADER

pytestmark = pytest.mark.integration

T0 = 1_764_064_800_000  # 2025-11-25T10:00:00Z
JOB_START_TIMEOUT = 180
WINDOW = 10


class Pipeline:
    def __init__(self, request, tmp_path):
        self.bs, self.jar = require_env()
        self.tmp = str(tmp_path)
        self.topics: list[str] = []
        self.procs: list[Proc] = []
        self.out = os.path.join(self.tmp, "output")
        self.state = os.path.join(self.tmp, "state")
        self.port = free_port()
        self.topic = self.new_topic(3, "it-data")
        self.alerts_topic = self.new_topic(1, "it-alerts")
        self.group = "it-" + os.path.basename(self.topic)
        request.addfinalizer(self.cleanup)

    def new_topic(self, partitions: int, prefix: str) -> str:
        t = create_topic(self.bs, partitions, prefix)
        self.topics.append(t)
        return t

    def cleanup(self):
        for p in self.procs:
            p.stop(timeout=20)
        delete_topics(self.bs, self.topics)

    def start_job(self, *extra: str) -> Proc:
        n = sum(1 for p in self.procs if "flink_job" in p.log_path)
        p = Proc([PY, os.path.join(ROOT, "flink_job.py"), "--bootstrap-servers", self.bs, "--topic", self.topic,
                  "--output", self.out, "--state-dir", self.state, "--connector-jar", self.jar,
                  "--rest-port", str(self.port), "--group-id", self.group, "--alerts-topic", self.alerts_topic,
                  "--window", str(WINDOW), "--checkpoint-interval", "2", "--out-of-orderness", "5", "--idle-timeout", "30",
                  "--progress-interval", "5", *extra],
                 os.path.join(self.tmp, f"flink_job-{n}.log"), cwd=self.tmp)
        self.procs.append(p)
        wait_for(lambda: "Flink job running" in p.text(), JOB_START_TIMEOUT, what="the job to start", proc=p)
        wait_for(lambda: self.job_state() == "RUNNING", 60, what="job state RUNNING", proc=p)
        return p

    def job_state(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/jobs/overview", timeout=3) as r:
                jobs = json.loads(r.read())["jobs"]
            return jobs[-1]["state"] if jobs else None
        except Exception:  # noqa: BLE001
            return None

    def generator(self, *args: str, manifest: str, wait: bool = True) -> Proc:
        n = sum(1 for p in self.procs if "generator" in p.log_path)
        p = Proc([PY, os.path.join(ROOT, "data_generator.py"), "--bootstrap-servers", self.bs, "--topic",
                  self.topic, "--manifest", manifest, *args],
                 os.path.join(self.tmp, f"generator-{n}.log"), cwd=self.tmp)
        self.procs.append(p)
        if wait:
            wait_for(lambda: not p.alive(), 300, interval=0.5, what="the generator to finish")
            assert p.p.returncode == 0, p.text()[-3000:]
        return p

    def report(self, expected=None):
        return verify_outputs.check(self.out, expected)

    def wait_accounted(self, expected: int, proc: Proc, timeout: float = 300):
        # The CSV and JSON sinks commit the same checkpoint one after the other, and a report reads one format,
        # then the other: wait until a report sees both formats complete, not only one of them.
        def done():
            r = self.report(expected)
            return r if r["accounted"] == expected and r["csv_equals_json"] else None

        try:
            return wait_for(done, timeout, interval=2, what=f"{expected} records accounted in the output",
                            proc=proc)
        except AssertionError:
            print(json.dumps(self.report(expected), indent=1))
            raise

    def produce(self, records: list[tuple]) -> list[tuple[int, int]]:
        """records: (partition, key, value[, headers]); returns (partition, offset) of each, in order."""
        from confluent_kafka import Producer

        p = Producer({"bootstrap.servers": self.bs, "enable.idempotence": True, "acks": "all",
                      "message.max.bytes": 4 * 1024 * 1024, "log_level": 0})
        res: list = [None] * len(records)

        def cb(i):
            def f(err, msg):
                assert err is None, err
                res[i] = (msg.partition(), msg.offset())
            return f

        for i, (part, key, value, *headers) in enumerate(records):
            p.produce(self.topic, value, key, partition=part, on_delivery=cb(i), headers=headers[0] if headers else None)
        assert p.flush(60) == 0
        assert all(r is not None for r in res)
        return res

    def kafka_alerts(self) -> list[dict]:
        """Committed records of the alerts topic (read_committed), read until 5 s pass without a record."""
        from confluent_kafka import Consumer, TopicPartition

        c = Consumer({"bootstrap.servers": self.bs, "group.id": "it-reader-" + os.urandom(4).hex(),
                      "isolation.level": "read_committed", "enable.auto.commit": False, "log_level": 0})
        try:
            c.assign([TopicPartition(self.alerts_topic, 0, 0)])
            out, last, deadline = [], time.time(), time.time() + 60
            while time.time() < deadline and time.time() - last < 5:
                m = c.poll(0.5)
                if m is None or m.error():
                    continue
                out.append(json.loads(m.value()))
                last = time.time()
            return out
        finally:
            c.close()


@pytest.fixture
def pipe(request, tmp_path):
    return Pipeline(request, tmp_path)


def ev(sid, ts, temp, hum, seq):
    return json.dumps({"event_id": f"{sid}-{seq}", "sensor_id": sid, "ts": ts, "temperature": temp,
                       "humidity": hum, "pressure": 1010.0, "battery": 0.8, "seq": seq}).encode()


def sentinel(part, ts):
    """The generator's final watermark: a control record, marked by its header."""
    return (part, b"__watermark__", json.dumps({
        "event_id": f"__watermark__-{part}-{ts}", "sensor_id": "__watermark__", "ts": ts, "temperature": 0.0,
        "humidity": 0.0, "pressure": 0.0, "battery": 0.0, "seq": 0}).encode(), [CONTROL_HEADER])


def assert_exactly_once(rep):
    assert rep["duplicate_windows"] == 0, rep
    assert rep["csv_equals_json"], rep
    assert rep["aggregate_rows_csv"] == rep["aggregate_rows_json"], rep
    assert rep["duplicate_alerts"] == 0, rep
    assert rep["sum_anomaly_count"] == rep["alerts"], rep


# ---------------------------------------------------------------------------------------------------------


def test_a_hand_made_events_exact_aggregates(pipe):
    """Three sensors on three partitions, chosen timestamps over four windows, one anomaly, one late event
    sent after the watermark passed it, then one watermark sentinel per partition."""
    job = pipe.start_job()
    sensors = {0: "sa", 1: "sb", 2: "sc"}
    plan = {  # offsets from T0 in ms, temperatures and humidities
        "sa": [(0, 20.0, 40.0), (4_000, 21.0, 42.0), (9_999, 23.5, 41.0), (12_000, 75.0, 50.0),
               (25_500, 19.0, 60.0), (36_000, 20.5, 61.0)],
        "sb": [(1_000, 30.0, 30.0), (11_000, 31.0, 31.0), (19_999, 32.0, 32.0), (20_000, 33.25, 33.0),
               (36_000, 29.0, 35.0)],
        "sc": [(5_000, 16.0, 71.0), (36_500, 15.0, 70.0), (33_000, 14.0, 69.0),  # out of order, within 5 s
               (37_000, 17.0, 72.0)],
    }
    records, events = [], []
    for part, sid in sensors.items():
        for seq, (dt, temp, hum) in enumerate(plan[sid]):
            records.append((part, sid.encode(), ev(sid, T0 + dt, temp, hum, seq)))
            events.append({"sensor_id": sid, "ts": T0 + dt, "temperature": temp, "humidity": hum,
                           "event_id": f"{sid}-{seq}"})
    pipe.produce(records)
    # windows ending at or before T0+30s fire once every partition is past T0+35s
    wait_for(lambda: pipe.report()["aggregate_rows_json"] >= 7, 120, interval=1, what="early windows", proc=job)
    late = pipe.produce([(0, b"sa", ev("sa", T0 + 1_000, 22.0, 43.0, 99))])[0]
    pipe.produce([sentinel(p, T0 + 40_000 + 60_000) for p in range(3)])
    expected = window_aggregates(events, WINDOW, 50.0)
    rep = pipe.wait_accounted(len(events) + 1, job, timeout=120)
    assert_exactly_once(rep)
    rows = verify_outputs.load(pipe.out)
    got = {(r["sensor_id"], r["window_start"]): r for r in rows["aggregates_json"]}
    assert set(got) == set(expected)
    for k, e in expected.items():
        r = got[k]
        assert (r["window_end"], r["event_count"], r["min_temperature"], r["max_temperature"],
                r["anomaly_count"]) == (e["window_end"], e["event_count"], e["min_temperature"],
                                        e["max_temperature"], e["anomaly_count"]), k
        assert r["avg_temperature"] == pytest.approx(e["avg_temperature"])
        assert r["avg_humidity"] == pytest.approx(e["avg_humidity"])
    assert got[("sa", "2025-11-25T10:00:00.000Z")]["event_count"] == 3
    assert got[("sc", "2025-11-25T10:00:30.000Z")]["event_count"] == 3
    assert rows["dead_letter"] == [{"raw": ev("sa", T0 + 1_000, 22.0, 43.0, 99).decode(), "raw_base64": None,
                                    "error": "late", "partition": late[0], "offset": late[1]}]
    assert [(a["event_id"], a["temperature"]) for a in rows["alerts"]] == [("sa-3", 75.0)]
    assert rows["alerts"][0]["ts"] == T0 + 12_000 and rows["alerts"][0]["sensor_id"] == "sa"
    kafka = wait_for(lambda: pipe.kafka_alerts() or None, 60, what="the alert on Kafka")
    assert [a["event_id"] for a in kafka] == ["sa-3"]
    assert job.alive()


def test_b_100k_events_generator_and_job(pipe):
    job = pipe.start_job()
    man_path = os.path.join(pipe.tmp, "manifest.json")
    pipe.generator("--rate", "0", "--count", "100000", "--sensors", "10", "--seed", "11",
                   "--malformed-fraction", "0.01", "--late-fraction", "0.01", "--anomaly-fraction", "0.01",
                   "--late-delay-ms", "600000", "--start-ts", str(T0), "--event-interval-ms", "100",
                   "--final-watermark", "--quiet", manifest=man_path)
    man = read_manifest(man_path)
    assert man["total_sent"] == 100_000 and man["errors"] == 0
    t0 = time.time()
    rep = pipe.wait_accounted(man["total_sent"], job, timeout=300)
    print(f"100k accounted {time.time() - t0:.1f}s after the generator finished: {rep}")
    assert_exactly_once(rep)
    assert rep["sum_event_count"] == man["total_sent"] - rep["dead_letter"]
    not_late = sum(v for k, v in rep["dead_letter_by_error"].items() if k != "late")
    assert not_late == man["malformed"]
    assert rep["dead_letter_by_error"].get("late", 0) <= man["late"]
    # which out-of-order events are behind the watermark depends on how the source interleaves partitions
    # (the watermark is the minimum over partitions, emitted every 200 ms): only "some" is deterministic
    assert rep["dead_letter_by_error"].get("late", 0) > 0
    kafka = wait_for(lambda: (lambda k: k if len(k) >= rep["alerts"] else None)(pipe.kafka_alerts()), 60,
                     what="alerts on Kafka")
    assert sorted(a["event_id"] for a in kafka) == sorted(a["event_id"] for a in verify_outputs.load(pipe.out)["alerts"])
    assert job.alive()


def test_c_kill_9_and_restart_exactly_once(pipe):
    job = pipe.start_job()
    man_path = os.path.join(pipe.tmp, "manifest.json")
    gen = pipe.generator("--rate", "5000", "--count", "100000", "--sensors", "10", "--seed", "12",
                         "--anomaly-fraction", "0.01", "--malformed-fraction", "0.005", "--start-ts", str(T0),
                         "--event-interval-ms", "100", "--final-watermark", "--quiet", manifest=man_path, wait=False)
    wait_for(lambda: checkpoint_count(pipe.state) >= 2 and pipe.report()["aggregate_rows_json"] > 0, 120,
             interval=0.5, what="committed output before the kill", proc=job)
    assert gen.alive(), "the generator finished before the kill; the test would not kill mid-run"
    before = pipe.report()
    job.kill9()
    time.sleep(2)
    job2 = pipe.start_job()
    assert "restoring from checkpoint" in job2.text()
    wait_for(lambda: not gen.alive(), 120, interval=0.5, what="the generator to finish")
    assert gen.p.returncode == 0, gen.text()
    man = read_manifest(man_path)
    rep = pipe.wait_accounted(man["total_sent"], job2, timeout=300)
    print(f"before kill: {before}\nafter restart: {rep}")
    assert before["sum_event_count"] > 0
    assert_exactly_once(rep)
    assert rep["sum_event_count"] == man["valid_events"]
    assert rep["dead_letter"] == man["malformed"]
    files_alerts = sorted(a["event_id"] for a in verify_outputs.load(pipe.out)["alerts"])
    kafka = wait_for(lambda: (lambda k: k if len(k) >= len(files_alerts) else None)(pipe.kafka_alerts()), 90,
                     what="alerts on Kafka")
    assert sorted(a["event_id"] for a in kafka) == files_alerts  # exactly once on the topic too


def test_d_malformed_records_while_running(pipe):
    job = pipe.start_job()
    m1 = os.path.join(pipe.tmp, "m1.json")
    pipe.generator("--rate", "0", "--count", "2000", "--sensors", "10", "--seed", "13", "--start-ts", str(T0),
                   "--event-interval-ms", "100", "--quiet", manifest=m1)
    wait_for(lambda: pipe.report()["aggregate_rows_json"] > 0, 120, what="first windows", proc=job)
    ok = {"event_id": "e", "sensor_id": "sensor-001", "ts": T0 + 1000, "temperature": 20.0, "humidity": 40.0,
          "pressure": 1000.0, "battery": 0.5, "seq": 1}

    def variant(**kw):
        d = dict(ok)
        for k, v in kw.items():
            if v is KeyError:
                del d[k]
            else:
                d[k] = v
        return json.dumps(d).encode()

    big = b'{"event_id": "big", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    bad = [
        (b'{"event_id": "e", "sensor_id": "sensor-001", "ts": 17640', "invalid JSON"),
        (b"hello world", "invalid JSON"),
        (variant(sensor_id=KeyError), "missing field: sensor_id"),
        (variant(humidity=KeyError), "missing field: humidity"),
        (variant(ts="yesterday"), "wrong type: ts"),
        (variant(temperature="hot"), "wrong type: temperature"),
        (variant(seq="x"), "wrong type: seq"),
        (b"", "empty"),
        (None, "empty"),  # a null value (tombstone)
        (big, f"oversized: {len(big)} chars"),
    ]
    offsets = pipe.produce([(i % 3, b"sensor-001", v) for i, (v, _) in enumerate(bad)])
    time.sleep(3)
    assert job.alive() and pipe.job_state() == "RUNNING"
    m2 = os.path.join(pipe.tmp, "m2.json")
    pipe.generator("--rate", "0", "--count", "2000", "--sensors", "10", "--seed", "14",
                   "--start-ts", str(T0 + 200 * 100), "--event-interval-ms", "100", "--final-watermark", "--quiet",
                   manifest=m2)
    valid = read_manifest(m1)["valid_events"] + read_manifest(m2)["valid_events"]
    rep = pipe.wait_accounted(valid + len(bad), job, timeout=180)
    assert_exactly_once(rep)
    assert rep["sum_event_count"] == valid == 4000
    dl = verify_outputs.load(pipe.out)["dead_letter"]
    got = {(r["partition"], r["offset"]): r for r in dl}
    assert set(got) == set(offsets)
    for (value, err), po in zip(bad, offsets):
        r = got[po]
        assert r["error"].startswith(err), (err, r["error"])
        assert len(r["raw"] or "") <= 1000
        if value is not None and len(value) <= 1000:
            assert r["raw"] == value.decode()
    big_row = got[offsets[-1]]
    assert str(len(big)) in big_row["error"] and big_row["raw"] == big[:1000].decode()
    assert job.alive() and pipe.job_state() == "RUNNING"


def test_e_stop_with_sigterm_and_restart(pipe):
    """The CLI's normal path: job stopped with SIGTERM, data sent while it is down, job started again."""
    job = pipe.start_job()
    m1 = os.path.join(pipe.tmp, "m1.json")
    pipe.generator("--rate", "0", "--count", "20000", "--sensors", "10", "--seed", "15", "--start-ts", str(T0),
                   "--event-interval-ms", "100", "--anomaly-fraction", "0.01", "--quiet", manifest=m1)
    wait_for(lambda: checkpoint_count(pipe.state) >= 1 and pipe.report()["aggregate_rows_json"] > 0, 120,
             interval=0.5, what="committed output", proc=job)
    assert job.stop(timeout=60) == 0
    assert "stopped" in job.text()
    m2 = os.path.join(pipe.tmp, "m2.json")
    pipe.generator("--rate", "0", "--count", "20000", "--sensors", "10", "--seed", "16",
                   "--start-ts", str(T0 + 2000 * 100), "--event-interval-ms", "100", "--anomaly-fraction", "0.01",
                   "--final-watermark", "--quiet", manifest=m2)
    job2 = pipe.start_job()
    assert "restoring from checkpoint" in job2.text()
    valid = read_manifest(m1)["valid_events"] + read_manifest(m2)["valid_events"]
    rep = pipe.wait_accounted(valid, job2, timeout=180)
    assert_exactly_once(rep)
    assert rep["sum_event_count"] == 40000 and rep["dead_letter"] == 0


def poison_mix(rng, n: int, t0: int):
    """n records over 3 partitions: mostly good events, the rest poison of every kind the job must catch. Returns
    [(partition, key, value)] and, per record, the expected place: ('event', event dict) or ('dead', error prefix)."""
    records, expected = [], []
    clock = {p: t0 for p in range(3)}
    for i in range(n):
        p = rng.randrange(3)
        clock[p] += rng.randrange(1, 40)
        sid = f"sensor-{rng.randrange(5):03d}"
        event = {"event_id": f"e-{i}", "sensor_id": sid, "ts": clock[p], "temperature": round(rng.uniform(15, 35), 2),
                 "humidity": round(rng.uniform(30, 70), 1), "pressure": 1000.0, "battery": 0.9, "seq": i}
        kind = rng.choices(["good", "watermark-named", "future", "nan", "infinity", "utf8", "empty", "missing",
                            "wrong", "json", "overflow"], weights=[60, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4])[0]
        value = None
        if kind in ("good", "watermark-named"):
            if kind == "watermark-named":
                event["sensor_id"] = "__watermark__"  # data, not control: it has no control header
            value, place = json.dumps(event).encode(), ("event", event)
        elif kind == "future":
            value, place = json.dumps({**event, "ts": event["ts"] * 1000}).encode(), ("dead", "future timestamp")
        elif kind == "nan":
            value, place = json.dumps({**event, "temperature": "NaN"}).encode(), ("dead", "wrong type: temperature")
        elif kind == "infinity":
            value, place = json.dumps({**event, "humidity": "Infinity"}).encode(), ("dead", "wrong type: humidity")
        elif kind == "overflow":
            value = json.dumps(event).replace(f'"pressure": {event["pressure"]}', '"pressure": 1e999').encode()
            place = ("dead", "wrong type: pressure")
        elif kind == "utf8":
            value, place = json.dumps(event).encode().replace(sid.encode(), sid.encode() + b"\xff\xfe"), ("dead", "invalid JSON")
        elif kind == "empty":
            value, place = b"", ("dead", "empty")
        elif kind == "missing":
            value, place = json.dumps({k: v for k, v in event.items() if k != "battery"}).encode(), ("dead", "missing field: battery")
        elif kind == "wrong":
            value, place = json.dumps({**event, "seq": "twelve"}).encode(), ("dead", "wrong type: seq")
        else:
            value, place = json.dumps(event).encode()[:-7], ("dead", "invalid JSON")
        records.append((p, sid.encode(), value))
        expected.append(place)
    return records, expected, max(clock.values())


def test_f_every_record_lands_in_exactly_one_place(pipe):
    """Random mixes of good and poison records (seed printed on failure): each one is in exactly one place, an
    aggregate's event_count or one dead-letter line; a record named like the watermark sensor is data; a far-future
    event time moves no watermark (later good events are not late); the exact bytes of non-UTF-8 records are kept."""
    seed = int(os.environ.get("PIPELINE_POISON_SEED", str(int(time.time()) % 100_000)))
    rng = __import__("random").Random(seed)
    job = pipe.start_job()
    records, expected, newest = poison_mix(rng, 3000, T0)
    offsets = pipe.produce(records)
    pipe.produce([sentinel(p, newest + 60_000) for p in range(3)])
    rep = pipe.wait_accounted(len(records), job, timeout=240)
    where = f"(seed {seed}: PIPELINE_POISON_SEED={seed} repeats this mix)"
    assert_exactly_once(rep)
    dead = {po: prefix for po, (kind, prefix) in zip(offsets, expected) if kind == "dead"}
    good = [e for kind, e in expected if kind == "event"]
    rows = verify_outputs.load(pipe.out)
    got_dead = {(r["partition"], r["offset"]): r for r in rows["dead_letter"]}
    assert set(got_dead) == set(dead), f"dead-letter offsets differ {where}"
    for po, prefix in dead.items():
        assert got_dead[po]["error"].startswith(prefix), (po, prefix, got_dead[po]["error"], where)
    for po, rec in zip(offsets, records):
        if b"\xff" in rec[2]:
            assert __import__("base64").b64decode(got_dead[po]["raw_base64"]) == rec[2], f"exact bytes of {po} {where}"
    expected_aggs = window_aggregates(good, WINDOW, 50.0)
    got = {(r["sensor_id"], r["window_start"]): r for r in rows["aggregates_json"]}
    assert set(got) == set(expected_aggs), f"windows differ {where}"
    for k, e in expected_aggs.items():
        assert got[k]["event_count"] == e["event_count"], (k, where)
    assert rep["sum_event_count"] == len(good) and rep["dead_letter"] == len(dead), where
    assert any(s == "__watermark__" for s, _ in got), f"a record named __watermark__ without the header is data {where}"
