#!/usr/bin/env python3
"""The benchmark's yardstick: a plain Flink SQL job on the same Flink and Kafka connector as flink_job.py.

Kafka source with Flink's own `'format' = 'json'`, the same 10 s tumbling-window aggregation per sensor, a
blackhole sink, parallelism 1, no validation, no dead letters, no files. `pipeline bench --only job` times it
from Flink's REST metrics next to the project's job; whatever the project's job does on top of this costs
the difference.

  python reference_job.py --bootstrap-servers 127.0.0.1:9092 --topic T --connector-jar JAR \\
      [--start-offsets 0:123,1:120,2:130] [--rest-port 8081]

Runs until SIGTERM/SIGINT, then cancels the job.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from flink_job import embedded_configuration, interval_ms, sql_str, use_runtime, with_options


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Plain Flink SQL reference job (json format, window, blackhole).")
    p.add_argument("--bootstrap-servers", default="127.0.0.1:9092")
    p.add_argument("--topic", required=True)
    p.add_argument("--connector-jar", default=os.environ.get("PIPELINE_CONNECTOR_JAR"), required=False)
    p.add_argument("--start-offsets", help="partition:offset,… to start from (default: earliest)")
    p.add_argument("--window", type=int, default=10)
    p.add_argument("--rest-port", type=int, default=8081)
    p.add_argument("--parallelism", type=int, default=1)
    p.add_argument("--runtime-dir", default=os.environ.get("PIPELINE_FLINK_RUNTIME"),
                   help="the Flink runtime of `pipeline setup` (the same start-up as the project's job)")
    a = p.parse_args(argv)
    if not a.connector_jar:
        p.error("--connector-jar (or env PIPELINE_CONNECTOR_JAR) is required")
    return a


def statements(a) -> list[str]:
    opts = {
        "connector": "kafka",
        "topic": a.topic,
        "properties.bootstrap.servers": a.bootstrap_servers,
        "properties.group.id": f"reference-{a.topic}",
        "format": "json",
        "json.ignore-parse-errors": "true",
    }
    if a.start_offsets:
        opts["scan.startup.mode"] = "specific-offsets"
        opts["scan.startup.specific-offsets"] = ";".join(
            f"partition:{p},offset:{o}" for p, o in (po.split(":") for po in a.start_offsets.split(",")))
    else:
        opts["scan.startup.mode"] = "earliest-offset"
    return [
        f"""CREATE TEMPORARY TABLE src (
  event_id STRING, sensor_id STRING, ts BIGINT, temperature DOUBLE, humidity DOUBLE, pressure DOUBLE,
  battery DOUBLE, seq BIGINT,
  rowtime AS TO_TIMESTAMP_LTZ(ts, 3),
  WATERMARK FOR rowtime AS rowtime - {interval_ms(5000)}
) WITH ({with_options(opts)})""",
        """CREATE TEMPORARY TABLE sink (
  sensor_id STRING, window_start TIMESTAMP(3), window_end TIMESTAMP(3), event_count BIGINT,
  avg_temperature DOUBLE, min_temperature DOUBLE, max_temperature DOUBLE, avg_humidity DOUBLE,
  anomaly_count BIGINT
) WITH ('connector' = 'blackhole')""",
        f"""INSERT INTO sink
SELECT sensor_id, window_start, window_end, COUNT(*), AVG(temperature), MIN(temperature), MAX(temperature),
  AVG(humidity), CAST(SUM(CASE WHEN temperature > 50.0 THEN 1 ELSE 0 END) AS BIGINT)
FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(rowtime), INTERVAL '{int(a.window)}' SECOND))
WHERE sensor_id <> {sql_str("__watermark__")}
GROUP BY sensor_id, window_start, window_end""",
    ]


def configuration(a) -> dict[str, str]:
    """The MiniCluster's settings: every server on loopback, no jar uploads, no other web origin (as flink_job.py)."""
    conf = {
        **embedded_configuration(a.rest_port),
        "parallelism.default": str(a.parallelism),
        "table.local-time-zone": "UTC",
        "metrics.fetcher.update-interval": "1000",
        "web.refresh-interval": "500",
    }
    if not a.runtime_dir:
        conf["pipeline.jars"] = "file://" + os.path.abspath(a.connector_jar)
    return conf


def main(argv=None) -> int:
    a = parse_args(argv)
    use_runtime(a.runtime_dir)
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    conf = Configuration()
    for k, v in configuration(a).items():
        conf.set_string(k, v)
    t_env = TableEnvironment.create(EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(conf).build())
    *ddl, insert = statements(a)
    for s in ddl:
        t_env.execute_sql(s)
    client = t_env.execute_sql(insert).get_job_client()
    print(f"reference job running: http://127.0.0.1:{a.rest_port} (job {client.get_job_id()})", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    client.cancel().result()
    return 0


if __name__ == "__main__":
    sys.exit(main())
