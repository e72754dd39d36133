"""The job's SQL (validation + tumbling windows) run by real Flink on hand-made records, in a batch
TableEnvironment (JVM, no Kafka), compared with the independent Python reference in reference.py."""

import json
import os
import time

import pytest
from reference import parse_event, window_aggregates

import flink_job as fj

T0 = 1_764_064_800_000  # 2025-11-25T10:00:00Z, a multiple of 10 s


def ev(sid, ts, temp, hum=50.0, seq=0, eid=None):
    return json.dumps({"event_id": eid or f"{sid}-{ts}", "sensor_id": sid, "ts": ts, "temperature": temp,
                       "humidity": hum, "pressure": 1000.0, "battery": 0.5, "seq": seq})


GOOD = [
    ev("s1", T0 + 100, 20.0, 40.0), ev("s1", T0 + 9_999, 22.5, 44.0), ev("s1", T0 + 10_000, 60.0, 30.0),
    ev("s2", T0 + 5_000, 18.25, 55.5), ev("s2", T0 + 25_000, 30.0, 60.0), ev("s2", T0 + 26_000, 51.0, 61.0),
    ev("s2", T0 + 29_999, 49.99, 62.0), '{"event_id":"x","sensor_id":"s3","ts":"1764064801000",'
    '"temperature":"21.5","humidity":1,"pressure":2,"battery":3,"seq":4}',  # numbers as text are accepted
]
BAD = {
    "": "empty",
    "   ": "empty",
    "not json": "invalid JSON",
    '{"ts": 12': "invalid JSON",
    "[1, 2]": "invalid JSON",
    '{"sensor_id":"s1","ts":1,"temperature":1,"humidity":1,"pressure":1,"battery":1,"seq":1}':
        "missing field: event_id",
    '{"event_id":"e","sensor_id":"s1","ts":1,"temperature":1,"humidity":1,"pressure":1,"battery":1}':
        "missing field: seq",
    '{"event_id":"e","sensor_id":"s1","ts":null,"temperature":1,"humidity":1,"pressure":1,"battery":1,"seq":1}':
        "missing field: ts",
    '{"event_id":"e","sensor_id":"s1","ts":"soon","temperature":1,"humidity":1,"pressure":1,"battery":1,"seq":1}':
        "wrong type: ts",
    '{"event_id":"e","sensor_id":"s1","ts":5,"temperature":"hot","humidity":1,"pressure":1,"battery":1,"seq":1}':
        "wrong type: temperature",
    '{"event_id":"e","sensor_id":"s1","ts":5,"temperature":1,"humidity":"","pressure":1,"battery":1,"seq":1}':
        "wrong type: humidity",
    '{"event_id":"e","sensor_id":"s1","ts":5,"temperature":1,"humidity":1,"pressure":1,"battery":1,"seq":-1}':
        "wrong type: seq",
    '{"event_id":"","sensor_id":"s1","ts":5,"temperature":1,"humidity":1,"pressure":1,"battery":1,"seq":1}':
        "wrong type: event_id",
    "x" * 70_000: "oversized: 70000 chars",
}


class Args:
    window = 10
    anomaly_threshold = 50.0
    max_record_chars = 65536
    out_of_orderness = 5.0
    allowed_lateness = 0.0


@pytest.fixture(scope="module")
def tenv():
    from pyflink.table import EnvironmentSettings, TableEnvironment

    jar = os.environ.get("PIPELINE_JOB_LIB_JAR")
    if not jar or not os.path.isfile(jar):
        pytest.fail("these tests need env PIPELINE_JOB_LIB_JAR: the job's Java library, built by `pipeline setup`",
                    pytrace=False)
    os.environ.setdefault("JVM_ARGS", "-Xmx384m")
    t = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    t.get_config().set("parallelism.default", "1")
    t.get_config().set("table.local-time-zone", "UTC")
    t.get_config().set("pipeline.jars", "file://" + os.path.abspath(jar))
    yield t


def run_sql(t, bodies, tmp_path):
    """Hand-made records -> the job's format, classification, aggregates, alerts and dead-letter SQL (late flag
    forced to FALSE). The records come from a file, one per line, read with the job's `sensor-json` format."""
    a = Args()
    src = tmp_path / "records.txt"
    src.write_bytes(b"".join(b.encode() + b"\n" for b in bodies))
    t.execute_sql(f"""CREATE TEMPORARY TABLE kafka_src ({fj.sensor_columns_ddl(a)},
      `partition` AS CAST(0 AS INT), `offset` AS CAST(0 AS BIGINT))
      WITH ('connector' = 'filesystem', 'path' = '{src}', 'format' = 'sensor-json')""")
    t.execute_sql(f"CREATE TEMPORARY VIEW good_events AS {fj.good_events_sql(late_expr='FALSE', control_expr='FALSE')}")
    good = [tuple(r) for r in t.sql_query("SELECT event_id FROM good_events").execute().collect()]
    dead_letter = [tuple(r) for r in t.sql_query(fj.dead_letter_sql(late_expr="FALSE", control_expr="FALSE")).execute().collect()]
    aggs = [r for r in t.sql_query(fj.aggregates_sql(a)).execute().collect()]
    alerts = [r for r in t.sql_query(fj.alerts_sql(a)).execute().collect()]
    t.drop_temporary_view("good_events")
    t.drop_temporary_table("kafka_src")
    return good, dead_letter, aggs, alerts


def test_validation_and_windows_match_reference(tenv, tmp_path):
    bodies = GOOD + list(BAD)
    t0 = time.time()
    good, dead_letter, aggs, alerts = run_sql(tenv, bodies, tmp_path)
    assert time.time() - t0 < 120
    # every record is in exactly one place: a good event or one dead-letter line
    assert len(good) + len(dead_letter) == len(bodies)
    assert sorted(e for (e,) in good) == sorted(json.loads(b)["event_id"] for b in GOOD)
    dl = {raw: err for raw, _raw_base64, err, _partition, _offset in dead_letter}
    assert len(dl) == len(BAD) and all(len(r) <= fj.RAW_MAX_CHARS for r in dl)
    for b, expected_err in BAD.items():
        err = dl[b[: fj.RAW_MAX_CHARS]]  # the record as sent, truncated only when longer than RAW_MAX_CHARS
        assert err is not None and err.startswith(expected_err), (b[:50], err)
        if len(b) > fj.RAW_MAX_CHARS:
            assert "70000" in err
    events = [parse_event(b.encode()) for b in GOOD[:-1]]
    events.append({"sensor_id": "s3", "ts": 1764064801000, "temperature": 21.5, "humidity": 1.0})
    expected = window_aggregates(events, 10, 50.0)
    got = {(r[0], r[1]): r for r in aggs}
    assert set(got) == set(expected)
    for k, e in expected.items():
        r = got[k]
        assert r[2] == e["window_end"]
        assert r[3] == e["event_count"]
        assert r[4] == pytest.approx(e["avg_temperature"])
        assert r[5] == e["min_temperature"] and r[6] == e["max_temperature"]
        assert r[7] == pytest.approx(e["avg_humidity"])
        assert r[8] == e["anomaly_count"]
    # hand-computed, independent of reference.py
    assert tuple(got[("s1", "2025-11-25T10:00:00.000Z")][3:9]) == (2, 21.25, 20.0, 22.5, 42.0, 0)
    assert got[("s2", "2025-11-25T10:00:20.000Z")][3] == 3
    assert got[("s2", "2025-11-25T10:00:20.000Z")][8] == 1
    assert sorted((r[1], r[3]) for r in alerts) == [("s1", 60.0), ("s2", 51.0)]


def test_interval_literal():
    assert fj.interval_ms(5000) == "INTERVAL '0 00:00:05.000' DAY TO SECOND(3)"
    assert fj.interval_ms(90_061_250) == "INTERVAL '1 01:01:01.250' DAY TO SECOND(3)"


def test_latest_checkpoint_and_prune(tmp_path):
    s = tmp_path
    assert fj.latest_checkpoint(str(s)) is None
    j1, j2 = "a" * 32, "b" * 32
    for job, n, meta in ((j1, 3, True), (j1, 4, True), (j2, 1, True), (j2, 2, False)):
        d = s / job / f"chk-{n}"
        d.mkdir(parents=True)
        if meta:
            (d / "_metadata").write_text("x")
            time.sleep(0.02)
    assert fj.latest_checkpoint(str(s)) == str(s / j2 / "chk-1")
    fj.prune_old_jobs(str(s), fj.latest_checkpoint(str(s)))
    assert sorted(os.listdir(s)) == [j2]


def test_latest_restore_point_prefers_a_newer_savepoint(tmp_path):
    state, savepoints = tmp_path / "chk", tmp_path / "sp"
    chk = state / ("a" * 32) / "chk-7"
    chk.mkdir(parents=True)
    (chk / "_metadata").write_text("x")
    assert fj.latest_restore_point(str(state), str(savepoints)) == str(chk)
    assert fj.latest_restore_point(str(state), None) == str(chk)
    time.sleep(0.02)
    sp = savepoints / "savepoint-aaaaaa-0123456789ab"
    sp.mkdir(parents=True)
    (sp / "_metadata").write_text("x")
    (savepoints / "savepoint-unfinished").mkdir()
    assert fj.latest_restore_point(str(state), str(savepoints)) == str(sp)
    time.sleep(0.02)
    newer = state / ("a" * 32) / "chk-8"
    newer.mkdir()
    (newer / "_metadata").write_text("x")
    assert fj.latest_restore_point(str(state), str(savepoints)) == str(newer)


class FakeResult:
    """The job's execution result future as PyFlink hands it out: done() and result()."""

    def __init__(self, done, error=None):
        self._done, self._error = done, error

    def done(self):
        return self._done

    def result(self):
        if self._error:
            raise self._error
        return "JobExecutionResult"


def test_ended_from_outside():
    assert fj.ended_from_outside(FakeResult(False)) is None
    assert fj.ended_from_outside(FakeResult(True)) == "stopped with a savepoint"
    cancelled = RuntimeError("org.apache.flink.runtime.client.JobCancellationException: Job was cancelled.")
    assert fj.ended_from_outside(FakeResult(True, cancelled)) == "cancelled"
    failed = RuntimeError("org.apache.flink.runtime.client.JobExecutionException: Job execution failed.")
    assert fj.ended_from_outside(FakeResult(True, failed)) is None


def test_cli_defaults():
    a = fj.parse_args(["--connector-jar", "/x.jar"])
    assert (a.topic, a.window, a.checkpoint_interval, a.group_id, a.alerts_topic, a.rest_port,
            a.parallelism) == ("sensor-data", 10, 10.0, "flink-sensor-processor", "sensor-alerts", 8081, 1)
    assert a.state_dir.endswith(os.path.join(".pipeline", "flink", "sensor-data"))
