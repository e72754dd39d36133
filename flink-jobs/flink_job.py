#!/usr/bin/env python3
"""PyFlink job: Kafka sensor events -> validated, event-time windowed aggregates, alerts and dead-letter.

Runs a local Flink MiniCluster inside PyFlink's gateway JVM (`python flink_job.py ...`). All per-record work
is Flink SQL with built-in functions (executed in the JVM); Python only builds the plan and watches the job.

Dataflow (one Flink job, one Kafka source):

  Kafka (format raw, + partition/offset metadata, per-partition watermark on the event's `ts`)
    -> stage A (SQL): extract the JSON fields once, flag records behind the watermark (`late`)
    -> DataStream hop (to_data_stream / from_data_stream, keeps timestamps and watermarks)
    -> stage B (SQL): validate -> error or NULL
         - good events  -> TUMBLE window per sensor -> aggregates/*.csv (FileSink, CSV with header)
                                                     -> aggregates/*.jsonl (FileSink)
         - good events above the threshold -> alerts/*.jsonl (FileSink) + Kafka topic (transactional sink)
         - everything else -> dead-letter/*.jsonl (FileSink) {"raw","error","partition","offset"}

Files become visible only when a checkpoint completes (exactly-once); in-progress files start with a dot.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import signal
import socket
import sys
import threading
import time
import urllib.request

WATERMARK_SENSOR_ID = "__watermark__"
DEFAULT_ANOMALY_THRESHOLD = 50.0
RAW_MAX_CHARS = 1000  # dead-letter keeps at most this many characters of a record
DEFAULT_MAX_RECORD_CHARS = 65536  # longer values are rejected as oversized without being parsed

AGG_COLUMNS = [
    ("sensor_id", "STRING"),
    ("window_start", "STRING"),
    ("window_end", "STRING"),
    ("event_count", "BIGINT"),
    ("avg_temperature", "DOUBLE"),
    ("min_temperature", "DOUBLE"),
    ("max_temperature", "DOUBLE"),
    ("avg_humidity", "DOUBLE"),
    ("anomaly_count", "BIGINT"),
]
ISO_FMT = "yyyy-MM-dd''T''HH:mm:ss.SSS''Z''"


def eprint(*a):
    print(*a, file=sys.stderr, flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="PyFlink sensor job: Kafka -> windowed aggregates, alerts, dead-letter.")
    p.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    p.add_argument("--topic", default="sensor-data")
    p.add_argument("--output", default="./output", help="output folder (default ./output)")
    p.add_argument("--window", type=int, default=10, help="tumbling window size in seconds (default 10)")
    p.add_argument("--checkpoint-interval", type=float, default=10.0, help="seconds (default 10)")
    p.add_argument("--group-id", default="flink-sensor-processor")
    p.add_argument("--alerts-topic", default="sensor-alerts")
    p.add_argument("--out-of-orderness", type=float, default=5.0,
                   help="watermark delay in seconds behind the newest event time of each partition (default 5)")
    p.add_argument("--allowed-lateness", type=float, default=0.0,
                   help="extra seconds a window waits for late events; added to the watermark delay, so a "
                        "window is emitted once, after out-of-orderness + allowed-lateness (default 0). Events "
                        "behind the watermark go to dead-letter with error 'late'")
    p.add_argument("--idle-timeout", type=float, default=30.0,
                   help="seconds after which a partition without records stops holding the watermark back "
                        "(default 30; 0 disables)")
    p.add_argument("--connector-jar", default=os.environ.get("PIPELINE_CONNECTOR_JAR"),
                   help="flink-sql-connector-kafka jar (default: env PIPELINE_CONNECTOR_JAR)")
    p.add_argument("--state-dir", help="checkpoint folder (default .pipeline/flink/<topic>)")
    p.add_argument("--rest-port", type=int, default=8081, help="Flink REST/Web UI port on 127.0.0.1 (default 8081)")
    p.add_argument("--parallelism", type=int, default=1)
    p.add_argument("--anomaly-threshold", type=float, default=DEFAULT_ANOMALY_THRESHOLD,
                   help="an event whose temperature is above this (°C) is an anomaly (default 50)")
    p.add_argument("--max-record-chars", type=int, default=DEFAULT_MAX_RECORD_CHARS,
                   help="records longer than this are dead-lettered as oversized (default 65536)")
    p.add_argument("--progress-interval", type=float, default=10.0, help="seconds between progress lines")
    p.add_argument("--no-restore", action="store_true", help="ignore checkpoints in --state-dir")
    p.add_argument("--connect-timeout", type=float, default=10.0)
    a = p.parse_args(argv)
    if a.window <= 0:
        p.error("--window must be > 0")
    if a.checkpoint_interval <= 0:
        p.error("--checkpoint-interval must be > 0")
    if a.parallelism < 1:
        p.error("--parallelism must be >= 1")
    if a.state_dir is None:
        a.state_dir = os.path.join(".pipeline", "flink", a.topic)
    a.state_dir = os.path.abspath(a.state_dir)
    a.output = os.path.abspath(a.output)
    return a


# ---------------------------------------------------------------------------------------------------------
# SQL (pure functions: unit-testable without Flink)
# ---------------------------------------------------------------------------------------------------------


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def interval_ms(ms: int) -> str:
    """SQL interval literal of a duration in milliseconds (DAY TO SECOND, so any size up to 99 days)."""
    ms = int(ms)
    d, rem = divmod(ms, 86_400_000)
    h, rem = divmod(rem, 3_600_000)
    m, rem = divmod(rem, 60_000)
    sec, milli = divmod(rem, 1000)
    return f"INTERVAL '{d} {h:02d}:{m:02d}:{sec:02d}.{milli:03d}' DAY TO SECOND(3)"


def rowtime_expr(a) -> str:
    """Event time of a raw record: its `ts` when that is an integer, else epoch 0."""
    return (f"TO_TIMESTAMP_LTZ(COALESCE(TRY_CAST(JSON_VALUE(CASE WHEN CHAR_LENGTH(body) <= {int(a.max_record_chars)} "
            "THEN body END, '$.ts') AS BIGINT), 0), 3)")


def source_ddl(a) -> str:
    """Kafka source: the record value as one raw string plus partition/offset; event time = `ts` of the JSON
    when it is an integer (epoch 0 otherwise, which never advances the watermark)."""
    delay_ms = int(round((a.out_of_orderness + a.allowed_lateness) * 1000))
    opts = {
        "connector": "kafka",
        "topic": a.topic,
        "properties.bootstrap.servers": a.bootstrap_servers,
        "properties.group.id": a.group_id,
        "properties.auto.offset.reset": "earliest",
        "scan.startup.mode": "group-offsets",
        "properties.client.id.prefix": a.group_id,
        "format": "raw",
        "raw.charset": "UTF-8",
    }
    if a.idle_timeout and a.idle_timeout > 0:
        opts["scan.watermark.idle-timeout"] = f"{int(a.idle_timeout * 1000)} ms"
    with_ = ",\n  ".join(f"{sql_str(k)} = {sql_str(v)}" for k, v in opts.items())
    return f"""
CREATE TEMPORARY TABLE kafka_src (
  body STRING,
  `partition` INT METADATA VIRTUAL,
  `offset` BIGINT METADATA VIRTUAL,
  rowtime AS {rowtime_expr(a)},
  WATERMARK FOR rowtime AS rowtime - {interval_ms(delay_ms)}
) WITH (
  {with_}
)"""


def stage_a_sql(a, late_expr: str = "(rowtime <= CURRENT_WATERMARK(rowtime)) IS TRUE") -> str:
    """Extract every field once (as text) and flag records behind the current watermark."""
    m = int(a.max_record_chars)
    fields = ["event_id", "sensor_id", "ts", "temperature", "humidity", "pressure", "battery", "seq"]
    body_ok = f"CASE WHEN CHAR_LENGTH(body) <= {m} THEN body END"
    cols = ",\n  ".join(f"JSON_VALUE({body_ok}, '$.{f}') AS f_{f}" for f in fields)
    return f"""
SELECT
  CASE WHEN CHAR_LENGTH(body) > {RAW_MAX_CHARS} THEN SUBSTRING(body, 1, {RAW_MAX_CHARS}) ELSE body END AS raw_text,
  CHAR_LENGTH(body) AS raw_len,
  `partition` AS kpartition,
  `offset` AS koffset,
  {cols},
  {late_expr} AS behind_watermark,
  rowtime
FROM kafka_src"""


def validation_case(a) -> str:
    """SQL CASE giving the dead-letter error of a stage-A row, or NULL for a good event."""
    m = int(a.max_record_chars)
    checks = [
        ("raw_text IS NULL OR TRIM(raw_text) = ''", "'empty'"),
        (f"raw_len > {m}", f"'oversized: ' || CAST(raw_len AS STRING) || ' chars (max {m})'"),
        (f"raw_len <= {RAW_MAX_CHARS} AND NOT (raw_text IS JSON OBJECT)", "'invalid JSON'"),
        ("f_event_id IS NULL AND f_sensor_id IS NULL AND f_ts IS NULL AND f_temperature IS NULL",
         "'invalid JSON or not a sensor event'"),
    ]
    for f in ["event_id", "sensor_id", "ts", "temperature", "humidity", "pressure", "battery", "seq"]:
        checks.append((f"f_{f} IS NULL", f"'missing field: {f}'"))
    checks += [
        ("TRIM(f_event_id) = ''", "'wrong type: event_id is empty'"),
        ("TRIM(f_sensor_id) = ''", "'wrong type: sensor_id is empty'"),
        ("TRY_CAST(f_ts AS BIGINT) IS NULL OR TRY_CAST(f_ts AS BIGINT) <= 0",
         "'wrong type: ts is not a positive integer (epoch ms)'"),
        ("TRY_CAST(f_seq AS BIGINT) IS NULL OR TRY_CAST(f_seq AS BIGINT) < 0",
         "'wrong type: seq is not a non-negative integer'"),
    ]
    for f in ["temperature", "humidity", "pressure", "battery"]:
        checks.append((f"TRY_CAST(f_{f} AS DOUBLE) IS NULL", f"'wrong type: {f} is not a number'"))
    checks.append(("behind_watermark", "'late'"))
    whens = "\n    ".join(f"WHEN {c} THEN {e}" for c, e in checks)
    trunc = (f"CASE WHEN raw_len > {RAW_MAX_CHARS} THEN "
             f"' (raw truncated to {RAW_MAX_CHARS} of ' || CAST(raw_len AS STRING) || ' chars)' ELSE '' END")
    return f"(CASE\n    {whens}\n    ELSE CAST(NULL AS STRING) END) || {trunc}"


def stage_b_sql(a) -> str:
    return f"""
SELECT
  raw_text, kpartition, koffset,
  {validation_case(a)} AS error,
  f_event_id AS event_id,
  f_sensor_id AS sensor_id,
  TRY_CAST(f_ts AS BIGINT) AS ts,
  TRY_CAST(f_temperature AS DOUBLE) AS temperature,
  TRY_CAST(f_humidity AS DOUBLE) AS humidity,
  TRY_CAST(f_pressure AS DOUBLE) AS pressure,
  TRY_CAST(f_battery AS DOUBLE) AS battery,
  TRY_CAST(f_seq AS BIGINT) AS seq,
  event_time
FROM stage_a"""


def aggregates_sql(a) -> str:
    thr = repr(float(a.anomaly_threshold))
    return f"""
SELECT
  sensor_id,
  DATE_FORMAT(window_start, '{ISO_FMT}') AS window_start,
  DATE_FORMAT(window_end, '{ISO_FMT}') AS window_end,
  COUNT(*) AS event_count,
  AVG(temperature) AS avg_temperature,
  MIN(temperature) AS min_temperature,
  MAX(temperature) AS max_temperature,
  AVG(humidity) AS avg_humidity,
  CAST(SUM(CASE WHEN temperature > {thr} THEN 1 ELSE 0 END) AS BIGINT) AS anomaly_count
FROM TABLE(TUMBLE(TABLE good_events, DESCRIPTOR(event_time), INTERVAL '{int(a.window)}' SECOND))
GROUP BY sensor_id, window_start, window_end"""


def alerts_sql(a) -> str:
    thr = repr(float(a.anomaly_threshold))
    return f"""
SELECT event_id, sensor_id, ts, temperature,
  'temperature ' || CAST(temperature AS STRING) || ' above threshold {thr}' AS reason
FROM good_events
WHERE temperature > {thr}"""


def json_line(cols: list[str]) -> str:
    return "JSON_OBJECT(" + ", ".join(f"'{c}' VALUE `{c}`" for c in cols) + " NULL ON NULL)"


def alerts_kafka_ddl(a) -> str:
    opts = {
        "connector": "kafka",
        "topic": a.alerts_topic,
        "properties.bootstrap.servers": a.bootstrap_servers,
        "key.format": "raw",
        "key.fields": "sensor_id",
        "value.format": "json",
        "value.fields-include": "ALL",
        "sink.delivery-guarantee": "exactly-once",
        "sink.transactional-id-prefix": f"{a.group_id}-{a.topic}-alerts",
        "properties.transaction.timeout.ms": "900000",
        "properties.max.request.size": str(4 * 1024 * 1024),
    }
    with_ = ",\n  ".join(f"{sql_str(k)} = {sql_str(v)}" for k, v in opts.items())
    return f"""
CREATE TEMPORARY TABLE alerts_kafka (
  event_id STRING, sensor_id STRING, ts BIGINT, temperature DOUBLE, reason STRING
) WITH (
  {with_}
)"""


# ---------------------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------------------


def latest_checkpoint(state_dir: str) -> str | None:
    """Newest completed checkpoint (`<job-id>/chk-N` with a `_metadata` file) under state_dir."""
    best = None
    for meta in glob.glob(os.path.join(state_dir, "*", "chk-*", "_metadata")):
        try:
            key = (os.path.getmtime(meta), int(meta.split("chk-")[-1].split(os.sep)[0]))
        except (OSError, ValueError):
            continue
        if best is None or key > best[0]:
            best = (key, os.path.dirname(meta))
    return best[1] if best else None


def prune_old_jobs(state_dir: str, keep: str | None) -> None:
    """Remove checkpoint folders of earlier runs except the one holding `keep` (hashmap state backend: each
    chk-N folder is self-contained)."""
    import shutil

    keep_job = os.path.dirname(keep) if keep else None
    for d in glob.glob(os.path.join(state_dir, "*")):
        if os.path.isdir(d) and d != keep_job and len(os.path.basename(d)) == 32:
            shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# pre-flight checks
# ---------------------------------------------------------------------------------------------------------


def port_holder(port: int) -> str:
    try:
        import subprocess

        out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, timeout=5).stdout
        return out.strip().split("users:")[-1] if out.strip() else "another process"
    except Exception:  # noqa: BLE001
        return "another process"


def preflight(a) -> str | None:
    """Return one error sentence, or None."""
    if not a.connector_jar:
        return ("the Flink Kafka connector jar is not set: pass --connector-jar PATH or set "
                "PIPELINE_CONNECTOR_JAR.")
    if not os.path.isfile(a.connector_jar):
        return f"the Flink Kafka connector jar {a.connector_jar} does not exist."
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", a.rest_port))
    except OSError:
        return f"port {a.rest_port} (Flink REST) on 127.0.0.1 is busy, held by {port_holder(a.rest_port)}."
    finally:
        s.close()
    try:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient, NewTopic
    except ImportError:
        return None
    admin = AdminClient({"bootstrap.servers": a.bootstrap_servers, "log_level": 0})
    try:
        md = admin.list_topics(timeout=a.connect_timeout)
    except KafkaException:
        return f"the Kafka broker at {a.bootstrap_servers} is unreachable."
    if a.topic not in md.topics:
        return f"topic {a.topic} does not exist on {a.bootstrap_servers}."
    if a.alerts_topic not in md.topics:
        try:
            for f in admin.create_topics([NewTopic(a.alerts_topic, 1, 1)]).values():
                f.result(timeout=a.connect_timeout)
        except Exception as e:  # noqa: BLE001
            if "TOPIC_ALREADY_EXISTS" not in str(e):
                return f"could not create the alerts topic {a.alerts_topic}: {e}"
    return None


# ---------------------------------------------------------------------------------------------------------
# job
# ---------------------------------------------------------------------------------------------------------


def build_job(a, restore_from: str | None):
    from pyflink.common import Configuration
    from pyflink.common.serialization import Encoder
    from pyflink.datastream import DataStream, StreamExecutionEnvironment
    from pyflink.datastream.connectors.file_system import (
        BucketAssigner,
        FileSink,
        OutputFileConfig,
        RollingPolicy,
    )
    from pyflink.datastream.formats.csv import CsvBulkWriters, CsvSchema
    from pyflink.java_gateway import get_gateway
    from pyflink.table import DataTypes, Schema, StreamTableEnvironment

    conf = Configuration()
    kv = {
        "rest.bind-address": "127.0.0.1",
        "rest.address": "127.0.0.1",
        "rest.port": str(a.rest_port),
        "rest.bind-port": str(a.rest_port),
        "pipeline.jars": "file://" + os.path.abspath(a.connector_jar),
        "pipeline.name": f"sensor-pipeline[{a.topic}]",
        "parallelism.default": str(a.parallelism),
        "execution.checkpointing.interval": f"{int(a.checkpoint_interval * 1000)} ms",
        "execution.checkpointing.mode": "EXACTLY_ONCE",
        "execution.checkpointing.dir": "file://" + a.state_dir,
        "execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
        "execution.checkpointing.num-retained": "2",
        "execution.checkpointing.min-pause": "500 ms",
        "execution.checkpointing.timeout": "5 min",
        "state.backend.type": "hashmap",
        "pipeline.object-reuse": "true",
        "metrics.fetcher.update-interval": "1000",
        "table.local-time-zone": "UTC",
        "taskmanager.memory.managed.size": "32m",
        "taskmanager.memory.network.min": "32m",
        "taskmanager.memory.network.max": "32m",
        "restart-strategy.type": "fixed-delay",
        "restart-strategy.fixed-delay.attempts": "1000000",
        "restart-strategy.fixed-delay.delay": "5 s",
    }
    if restore_from:
        kv["execution.state-recovery.path"] = "file://" + restore_from
    for k, v in kv.items():
        conf.set_string(k, v)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(a.parallelism)
    t_env = StreamTableEnvironment.create(env)
    tconf = t_env.get_config()
    tconf.set("table.local-time-zone", "UTC")

    jvm = get_gateway().jvm

    t_env.execute_sql(source_ddl(a))
    t_env.create_temporary_view("stage_a", t_env.sql_query(stage_a_sql(a)))
    # DataStream hop: materialises stage A once, so that the JSON is parsed once per field and every query
    # below reads the same stream (one Kafka source). Timestamps and watermarks go through.
    ds_a = t_env.to_data_stream(t_env.from_path("stage_a"))
    schema_a = (
        Schema.new_builder()
        .column_by_metadata("event_time", DataTypes.TIMESTAMP_LTZ(3), "rowtime")
        .watermark("event_time", "SOURCE_WATERMARK()")
        .build()
    )
    # the physical fields come from the row type; the time attribute is the record timestamp (metadata)
    t_env.create_temporary_view("stage_a_ds", t_env.from_data_stream(ds_a, schema_a))
    t_env.create_temporary_view("stage_a_hop", t_env.sql_query("SELECT * FROM stage_a_ds"))
    t_env.create_temporary_view("classified", t_env.sql_query(stage_b_sql(a).replace("FROM stage_a", "FROM stage_a_hop")))
    t_env.create_temporary_view("good_events", t_env.sql_query(
        f"SELECT * FROM classified WHERE error IS NULL AND sensor_id <> {sql_str(WATERMARK_SENSOR_ID)}"))

    out = a.output

    def string_stream(table):
        """Single STRING column table -> Java DataStream<String> (no Python in the path)."""
        j_ds = t_env._j_tenv.toDataStream(table._j_table, jvm.java.lang.String._java_lang_class)
        return DataStream(j_ds)

    def jsonl_sink(stream, sub: str, prefix: str, uid: str):
        sink = (
            FileSink.for_row_format(os.path.join(out, sub), Encoder.simple_string_encoder())
            .with_bucket_assigner(BucketAssigner.base_path_bucket_assigner())
            .with_rolling_policy(RollingPolicy.on_checkpoint_rolling_policy())
            .with_output_file_config(OutputFileConfig.builder().with_part_prefix(prefix)
                                     .with_part_suffix(".jsonl").build())
            .build()
        )
        stream.sink_to(sink).uid(uid).name(uid)

    # aggregates: one window operator, its rows materialised once, then written as CSV and JSON lines
    agg_ds = t_env.to_data_stream(t_env.sql_query(aggregates_sql(a)))
    agg_t = t_env.from_data_stream(agg_ds)
    cols = [c for c, _ in AGG_COLUMNS]
    csv_schema = CsvSchema.builder()
    for c, typ in AGG_COLUMNS:
        if typ == "STRING":
            csv_schema.add_string_column(c)
        elif typ == "BIGINT":
            csv_schema.add_number_column(c, number_type=DataTypes.BIGINT())
        else:
            csv_schema.add_number_column(c, number_type=DataTypes.DOUBLE())
    csv_schema = csv_schema.set_use_header(True).set_column_separator(",").build()
    agg_csv_sink = (
        FileSink.for_bulk_format(os.path.join(out, "aggregates"), CsvBulkWriters.for_schema(csv_schema))
        .with_bucket_assigner(BucketAssigner.base_path_bucket_assigner())
        .with_output_file_config(OutputFileConfig.builder().with_part_prefix("aggregates")
                                 .with_part_suffix(".csv").build())
        .build()
    )
    agg_rows = t_env.to_data_stream(agg_t.select(*[_col(c) for c in cols]))
    agg_rows.sink_to(agg_csv_sink).uid("aggregates-csv").name("aggregates-csv")
    t_env.create_temporary_view("agg_rows", agg_t)
    jsonl_sink(string_stream(t_env.sql_query(f"SELECT {json_line(cols)} AS line FROM agg_rows")),
               "aggregates", "aggregates", "aggregates-jsonl")

    # alerts: JSON lines + Kafka (transactional)
    t_env.create_temporary_view("alerts", t_env.sql_query(alerts_sql(a)))
    alert_cols = ["event_id", "sensor_id", "ts", "temperature", "reason"]
    jsonl_sink(string_stream(t_env.sql_query(f"SELECT {json_line(alert_cols)} AS line FROM alerts")),
               "alerts", "alerts", "alerts-jsonl")
    t_env.execute_sql(alerts_kafka_ddl(a))
    stmt = t_env.create_statement_set()
    stmt.add_insert_sql("INSERT INTO alerts_kafka SELECT event_id, sensor_id, ts, temperature, reason FROM alerts")
    stmt.attach_as_datastream()

    # dead-letter: every record that is not a good event (except the late end-of-run sentinels)
    dl = t_env.sql_query(
        "SELECT JSON_OBJECT('raw' VALUE raw_text, 'error' VALUE error, 'partition' VALUE kpartition, "
        "'offset' VALUE koffset NULL ON NULL) AS line FROM classified "
        f"WHERE error IS NOT NULL AND NOT (error = 'late' AND sensor_id = {sql_str(WATERMARK_SENSOR_ID)})")
    jsonl_sink(string_stream(dl), "dead-letter", "dead-letter", "dead-letter-jsonl")
    return env


def _col(name):
    from pyflink.table.expressions import col

    return col(name)


# ---------------------------------------------------------------------------------------------------------
# REST progress
# ---------------------------------------------------------------------------------------------------------


def rest_get(port: int, path: str, timeout: float = 3.0):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return json.loads(r.read().decode())


def progress_line(port: int, job_id: str) -> str | None:
    try:
        job = rest_get(port, f"/jobs/{job_id}")
        cps = rest_get(port, f"/jobs/{job_id}/checkpoints")
    except Exception:  # noqa: BLE001
        return None
    read = 0
    for v in job.get("vertices", []):
        if v.get("name", "").startswith("Source"):
            read += v.get("metrics", {}).get("read-records", 0)
    c = cps.get("counts", {})
    latest = (cps.get("latest") or {}).get("completed") or {}
    return (f"job {job.get('state')}: records read={read} checkpoints completed={c.get('completed', 0)} "
            f"failed={c.get('failed', 0)} latest=chk-{latest.get('id', '-')}")


def drain_gateway_stderr(path: str) -> None:
    """PyFlink starts its gateway JVM with stderr=PIPE and never reads it; a chatty JVM would block once the
    pipe is full. Copy that pipe to a log file from a daemon thread."""
    import gc
    import subprocess

    for obj in gc.get_objects():
        try:
            is_gateway = (isinstance(obj, subprocess.Popen) and obj.stderr is not None and obj.poll() is None
                          and "java" in os.path.basename(str(obj.args[0])))
        except Exception:  # noqa: BLE001
            continue
        if is_gateway:
            def pump(stream=obj.stderr):
                with open(path, "ab", buffering=0) as f:
                    for chunk in iter(lambda: stream.read1(65536), b""):
                        f.write(chunk)

            threading.Thread(target=pump, name="gateway-stderr", daemon=True).start()


def private_tmp_dir(root: str) -> str:
    """A temp folder of this job under `root`, after removing those of jobs that are gone.

    Flink unpacks jars (its RPC system, the table planner) into java.io.tmpdir and deletes them only on a clean
    JVM exit; a job stopped by a signal would leave about 30 MB in /tmp each time.
    """
    os.makedirs(root, exist_ok=True)
    for name in os.listdir(root):
        if name.isdigit() and not pid_alive(int(name)):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)
    mine = os.path.join(root, str(os.getpid()))
    os.makedirs(mine, exist_ok=True)
    return mine


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv=None) -> int:
    a = parse_args(argv)
    err = preflight(a)
    if err:
        eprint(f"error: {err}")
        return 2
    os.makedirs(a.state_dir, exist_ok=True)
    for sub in ("aggregates", "alerts", "dead-letter"):
        os.makedirs(os.path.join(a.output, sub), exist_ok=True)
    restore = None if a.no_restore else latest_checkpoint(a.state_dir)
    prune_old_jobs(a.state_dir, restore)
    if restore:
        print(f"restoring from checkpoint {restore}", flush=True)
    os.environ.setdefault("FLINK_LOG_DIR", os.path.join(os.path.dirname(a.state_dir), "logs"))
    os.makedirs(os.environ["FLINK_LOG_DIR"], exist_ok=True)
    os.environ.setdefault("JVM_ARGS", "-Xmx512m -XX:MaxMetaspaceSize=256m -XX:+UseSerialGC")
    tmp = private_tmp_dir(os.path.join(os.path.dirname(a.state_dir), "tmp"))
    os.environ["JVM_ARGS"] += f" -Djava.io.tmpdir={tmp}"
    os.environ["TMPDIR"] = tmp

    env = build_job(a, restore)
    drain_gateway_stderr(os.path.join(os.environ["FLINK_LOG_DIR"], "gateway-stderr.log"))
    client = env.execute_async(f"sensor-pipeline[{a.topic}]")
    job_id = str(client.get_job_id())
    print(f"Flink job running: http://127.0.0.1:{a.rest_port} (job {job_id}; output {a.output}; "
          f"checkpoints {a.state_dir})", flush=True)

    stop = threading.Event()

    def on_signal(signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    next_progress = time.monotonic() + a.progress_interval
    while not stop.is_set():
        stop.wait(1.0)
        try:
            status = str(client.get_job_status().result())
        except Exception as e:  # noqa: BLE001
            eprint(f"error: lost the Flink job: {e}")
            return 1
        if status in ("FAILED", "FINISHED", "CANCELED"):
            eprint(f"error: the Flink job ended with status {status}; see logs in {os.environ['FLINK_LOG_DIR']}")
            return 1
        if time.monotonic() >= next_progress:
            line = progress_line(a.rest_port, job_id)
            if line:
                print(line, flush=True)
            next_progress = time.monotonic() + a.progress_interval
    print("stopping: cancelling the Flink job (its last completed checkpoint is kept for the next start)",
          flush=True)
    try:
        client.cancel().result()
    except Exception as e:  # noqa: BLE001
        eprint(f"warning: cancel failed: {e}")
    print("stopped", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
