import json
import random

import pytest
from reference import parse_event

import data_generator as g

KEYS = ["event_id", "sensor_id", "ts", "temperature", "humidity", "pressure", "battery", "seq"]


def records(n, **kw):
    f = g.SensorFleet(**kw)
    return f, [f.next_record() for _ in range(n)]


def test_event_shape_matches_contract():
    _, recs = records(50, sensors=5, seed=1, start_ts=1_764_064_800_000, event_interval_ms=100)
    for key, value, kind in recs:
        d = json.loads(value)
        assert list(d) == KEYS
        assert isinstance(d["event_id"], str) and d["event_id"]
        assert isinstance(d["ts"], int) and isinstance(d["seq"], int)
        for f in ("temperature", "humidity", "pressure", "battery"):
            assert isinstance(d[f], float)
        assert key == d["sensor_id"].encode()
        assert d["sensor_id"].startswith("sensor-") and len(d["sensor_id"]) == 10
        assert parse_event(value) is not None
        assert kind == "event"


def test_seq_per_sensor_ts_and_unique_ids():
    _, recs = records(1000, sensors=7, seed=2, start_ts=1_000_000, event_interval_ms=250)
    seqs, ids = {}, set()
    for _, value, _ in recs:
        d = json.loads(value)
        assert d["seq"] == seqs.get(d["sensor_id"], -1) + 1
        seqs[d["sensor_id"]] = d["seq"]
        assert d["ts"] == 1_000_000 + d["seq"] * 250
        ids.add(d["event_id"])
    assert len(ids) == 1000
    assert sorted(seqs) == [g.sensor_id(i) for i in range(7)]
    assert all(v in (141, 142) for v in seqs.values())  # 1000 round-robin over 7


def test_drift_stays_in_bounds_and_battery_drains():
    f, recs = records(50_000, sensors=3, seed=3)
    first_b, last = {}, {}
    prev_t = {}
    for _, value, _ in recs:
        d = json.loads(value)
        assert g.TEMP_MIN <= d["temperature"] <= g.TEMP_MAX
        assert g.HUM_MIN <= d["humidity"] <= g.HUM_MAX
        assert g.PRES_MIN <= d["pressure"] <= g.PRES_MAX
        assert g.BATTERY_MIN <= d["battery"] <= 1.0
        if d["sensor_id"] in prev_t:  # a random walk: small steps
            assert abs(d["temperature"] - prev_t[d["sensor_id"]]) <= 0.21 + 0.01
        prev_t[d["sensor_id"]] = d["temperature"]
        first_b.setdefault(d["sensor_id"], d["battery"])
        last[d["sensor_id"]] = d["battery"]
    for sid in first_b:
        assert last[sid] < first_b[sid]


def test_injection_fractions_and_kinds():
    n = 40_000
    f, recs = records(n, sensors=10, seed=4, late_fraction=0.1, anomaly_fraction=0.05,
                      malformed_fraction=0.02, start_ts=10**12, event_interval_ms=100, late_delay_ms=60_000)
    kinds = [k for _, _, k in recs]
    mal = [r for r in recs if r[2].startswith("malformed:")]
    assert abs(len(mal) / n - 0.02) < 0.004
    valid = [r for r in recs if not r[2].startswith("malformed:")]
    late = [r for r in valid if "+late" in r[2]]
    severe = [r for r in valid if r[2].endswith("+late_severe")]
    anomalies = [r for r in valid if r[2].startswith("anomaly")]
    assert abs(len(late) / len(valid) - 0.1) < 0.01
    assert 0.4 < len(severe) / len(late) < 0.6
    assert abs(len(anomalies) / len(valid) - 0.05) < 0.007
    for _, value, kind in mal:
        assert parse_event(value) is None, (kind, value)
    assert {k.split(":")[1] for k in kinds if k.startswith("malformed:")} == set(g.MALFORMED_KINDS)
    for _, value, _kind in anomalies:
        assert json.loads(value)["temperature"] > g.DEFAULT_ANOMALY_THRESHOLD
    for _, value, kind in valid:
        d = json.loads(value)
        expected = 10**12 + d["seq"] * 100
        if kind.endswith("+late_severe"):
            assert expected - d["ts"] >= 60_000
        elif kind.endswith("+late"):
            assert 0 < expected - d["ts"] <= g.MILD_LATE_MAX_MS
        else:
            assert d["ts"] == expected
            assert d["temperature"] <= g.TEMP_MAX or kind.startswith("anomaly")


def test_same_seed_same_records():
    _, a = records(200, seed=9, start_ts=5, malformed_fraction=0.1, late_fraction=0.1)
    _, b = records(200, seed=9, start_ts=5, malformed_fraction=0.1, late_fraction=0.1)
    assert a == b


def test_malformed_kinds_are_invalid():
    rng = random.Random(5)
    seen = set()
    for _ in range(500):
        kind, value = g.make_malformed(rng, "sensor-001", 1_764_064_800_000)
        seen.add(kind)
        assert parse_event(value) is None
    assert seen == set(g.MALFORMED_KINDS)


def test_sentinel_is_valid_event_of_watermark_sensor():
    k, v = g.make_sentinel("run", 2, 123456)
    d = parse_event(v)
    assert k == b"__watermark__" and d["sensor_id"] == g.WATERMARK_SENSOR_ID and d["ts"] == 123456


def test_default_event_interval():
    assert g.default_event_interval_ms(100, 10) == 100
    assert g.default_event_interval_ms(1000, 10) == 10
    assert g.default_event_interval_ms(0, 10) == 100


def test_cli_validation():
    with pytest.raises(SystemExit):
        g.parse_args(["--count", "5", "--duration", "3"])
    with pytest.raises(SystemExit):
        g.parse_args(["--late-fraction", "1.5"])
    a = g.parse_args(["--rate", "50", "--sensors", "5"])
    assert a.event_interval_ms == 100 and a.bootstrap_servers == "127.0.0.1:9092" and a.topic == "sensor-data"


class FakeMeta:
    def __init__(self, topic, parts):
        self.brokers = {1: object()}
        self.topics = {topic: type("T", (), {"partitions": {p: None for p in range(parts)}})()}


class FakeProducer:
    def __init__(self, topic, parts=3):
        self.sent = []
        self.topic = topic
        self.parts = parts

    def produce(self, topic, value, key, partition=None, headers=None):
        self.sent.append((topic, key, value, partition, headers))

    def poll(self, t=0):
        return 0

    def flush(self, t=None):
        return 0

    def list_topics(self, topic=None, timeout=None):
        return FakeMeta(self.topic, self.parts)


def test_manifest_content(tmp_path, capsys):
    man = tmp_path / "m.json"
    a = g.parse_args(["--topic", "tp", "--rate", "0", "--count", "3000", "--sensors", "4", "--seed", "7",
                      "--malformed-fraction", "0.05", "--late-fraction", "0.05", "--anomaly-fraction", "0.05",
                      "--start-ts", "1764064800000", "--final-watermark", "--manifest", str(man), "--quiet"])
    p = FakeProducer("tp", parts=3)
    rc = g.run(a, p, {"n": 0, "first": None}, {"flag": False})
    assert rc == 0
    m = json.loads(man.read_text())
    data = [s for s in p.sent if s[3] is None]
    sentinels = [s for s in p.sent if s[3] is not None]
    assert m["total_sent"] == len(data) == 3000
    assert m["watermark_sentinels"] == len(sentinels) == 3
    assert sorted(s[3] for s in sentinels) == [0, 1, 2]
    assert all(s[4] == [g.CONTROL_HEADER] for s in sentinels), "a control record is marked by its header"
    assert all(s[4] is None for s in p.sent if s[3] is None), "data records carry no control header"
    valid = [json.loads(v) for _, _, v, _, _ in data if parse_event(v) is not None]
    assert m["valid_events"] == len(valid)
    assert m["malformed"] == 3000 - len(valid) == sum(m["malformed_by_kind"].values())
    assert m["anomalies"] == sum(1 for d in valid if d["temperature"] > g.DEFAULT_ANOMALY_THRESHOLD)
    per = {}
    for d in valid:
        per.setdefault(d["sensor_id"], []).append(d["seq"])
    assert set(m["sensors"]) == set(per)
    for sid, seqs in per.items():
        assert m["sensors"][sid] == {"events": len(seqs), "first_seq": 0, "last_seq": max(seqs)}
    assert m["late"] == sum(1 for d in valid if d["ts"] != 1764064800000 + d["seq"] * 100)
    assert m["max_ts"] == max(1764064800000 + d["seq"] * 100 for d in valid)
    wm = json.loads(sentinels[0][2])
    assert wm["ts"] == m["max_ts"] + 60_000
    assert "done: sent=3000" in capsys.readouterr().out


def test_stop_flag_ends_run_and_writes_manifest(tmp_path):
    man = tmp_path / "m.json"
    a = g.parse_args(["--topic", "tp", "--rate", "0", "--manifest", str(man), "--quiet"])
    stop = {"flag": False}

    class StopAfter(FakeProducer):
        def poll(self, t=0):
            if len(self.sent) >= 5000:
                stop["flag"] = True
            return 0

    rc = g.run(a, StopAfter("tp"), {"n": 0, "first": None}, stop)
    m = json.loads(man.read_text())
    assert rc == 0 and m["interrupted"] is True and m["total_sent"] >= 5000


def test_delivery_errors_give_nonzero_exit(tmp_path):
    a = g.parse_args(["--topic", "tp", "--rate", "0", "--count", "10", "--quiet"])
    errors = {"n": 0, "first": None}

    class Failing(FakeProducer):
        def flush(self, t=None):
            errors["n"] = 10
            errors["first"] = "boom"
            return 0

    assert g.run(a, Failing("tp"), errors, {"flag": False}) == 1


def test_sentinel_only_run(tmp_path):
    man = tmp_path / "m.json"
    a = g.parse_args(["--topic", "tp", "--count", "0", "--final-watermark", "--start-ts", "1000",
                      "--manifest", str(man), "--quiet"])
    p = FakeProducer("tp", parts=2)
    assert g.run(a, p, {"n": 0, "first": None}, {"flag": False}) == 0
    assert [(s[1], json.loads(s[2])["ts"], s[3]) for s in p.sent] == [
        (b"__watermark__", 61_000, 0), (b"__watermark__", 61_000, 1)]
    m = json.loads(man.read_text())
    assert m["total_sent"] == 0 and m["watermark_sentinels"] == 2


def test_payload_file_holds_the_events_the_generator_would_send(tmp_path):
    path = tmp_path / "payloads.txt"
    assert g.main(["--count", "50", "--seed", "3", "--start-ts", "1764064800000", "--payload-file", str(path)]) == 0
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 51
    fleet = g.SensorFleet(seed=3, start_ts=1764064800000, event_interval_ms=g.default_event_interval_ms(100.0, 10))
    assert lines[:50] == [fleet.next_record()[1] for _ in range(50)]
    assert all(json.loads(v)["sensor_id"].startswith("sensor-") for v in lines[:50])
    with pytest.raises(SystemExit):
        g.parse_args(["--payload-file", str(path)])  # without --count
