#!/usr/bin/env python3
"""Exactly-once checks over the job's committed output files, with DuckDB.

Reads only committed files (names not starting with a dot):
  aggregates/**/*.csv, aggregates/**/*.jsonl, alerts/**/*.jsonl, dead-letter/**/*.jsonl
and reports: rows, sum(event_count), duplicate (sensor_id, window_start) keys, whether the CSV rows equal
the JSON rows, alerts, dead-letter records by error. With --expected N (records sent, valid + malformed),
checks sum(event_count) + dead-letter == N. Exit 0 when every check passes.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

AGG_COLS = ["sensor_id", "window_start", "window_end", "event_count", "avg_temperature", "min_temperature",
            "max_temperature", "avg_humidity", "anomaly_count"]


def _files(out: str, sub: str, ext: str) -> list[str]:
    base = os.path.join(out, sub)
    return sorted(p for p in glob.glob(os.path.join(base, "**", f"*.{ext}"), recursive=True)
                  if not any(part.startswith(".") for part in os.path.relpath(p, base).split(os.sep)))


def _list_sql(files: list[str]) -> str:
    return "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"


def load(out: str) -> dict:
    """Return dict of lists of row dicts: aggregates_csv, aggregates_json, alerts, dead_letter."""
    import duckdb

    con = duckdb.connect()
    res = {}
    csvs = _files(out, "aggregates", "csv")
    if csvs:
        cols = ", ".join(f'"{c}"' for c in AGG_COLS)
        q = (f"SELECT {cols} FROM read_csv({_list_sql(csvs)}, header=true, union_by_name=true, "
             "columns={'sensor_id':'VARCHAR','window_start':'VARCHAR','window_end':'VARCHAR',"
             "'event_count':'BIGINT','avg_temperature':'DOUBLE','min_temperature':'DOUBLE',"
             "'max_temperature':'DOUBLE','avg_humidity':'DOUBLE','anomaly_count':'BIGINT'})")
        res["aggregates_csv"] = [dict(zip(AGG_COLS, r)) for r in con.execute(q).fetchall()]
    else:
        res["aggregates_csv"] = []
    for key, sub in (("aggregates_json", "aggregates"), ("alerts", "alerts"), ("dead_letter", "dead-letter")):
        rows = []
        for f in _files(out, sub, "jsonl"):
            with open(f, encoding="utf-8") as fh:
                rows.extend(json.loads(line) for line in fh if line.strip())
        res[key] = rows
    return res


def check(out: str, expected: int | None = None) -> dict:
    import duckdb

    d = load(out)
    con = duckdb.connect()
    csv_rows = d["aggregates_csv"]
    json_rows = d["aggregates_json"]

    def key(r):
        return (r["sensor_id"], r["window_start"], r["window_end"], int(r["event_count"]),
                round(float(r["avg_temperature"]), 6), float(r["min_temperature"]), float(r["max_temperature"]),
                round(float(r["avg_humidity"]), 6), int(r["anomaly_count"]))

    csv_set = sorted(key(r) for r in csv_rows)
    json_set = sorted(key(r) for r in json_rows)
    import pandas as pd

    agg = pd.DataFrame(json_rows, columns=AGG_COLS) if json_rows else pd.DataFrame(columns=AGG_COLS)
    dups = con.execute("SELECT count(*) FROM (SELECT sensor_id, window_start FROM agg GROUP BY 1, 2 "
                       "HAVING count(*) > 1)").fetchone()[0] if len(agg) else 0
    total = int(sum(int(r["event_count"]) for r in json_rows))
    anomalies = int(sum(int(r["anomaly_count"]) for r in json_rows))
    dl_by_error: dict[str, int] = {}
    for r in d["dead_letter"]:
        e = r.get("error") or ""
        k = "late" if e == "late" else e.split(":")[0]
        dl_by_error[k] = dl_by_error.get(k, 0) + 1
    alert_ids = [r["event_id"] for r in d["alerts"]]
    report = {
        "aggregate_rows_csv": len(csv_rows),
        "aggregate_rows_json": len(json_rows),
        "csv_equals_json": csv_set == json_set,
        "sum_event_count": total,
        "duplicate_windows": int(dups),
        "sum_anomaly_count": anomalies,
        "alerts": len(alert_ids),
        "duplicate_alerts": len(alert_ids) - len(set(alert_ids)),
        "dead_letter": len(d["dead_letter"]),
        "dead_letter_by_error": dict(sorted(dl_by_error.items())),
    }
    ok = report["csv_equals_json"] and dups == 0 and report["duplicate_alerts"] == 0 and anomalies == len(alert_ids)
    if expected is not None:
        report["expected"] = expected
        report["accounted"] = total + len(d["dead_letter"])
        ok = ok and report["accounted"] == expected
    report["ok"] = bool(ok)
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Exactly-once checks over the job's output files (DuckDB).")
    p.add_argument("--output", default="./output")
    p.add_argument("--expected", type=int, help="records sent (valid + malformed), e.g. manifest total_sent")
    p.add_argument("--manifest", help="take --expected from a data_generator.py manifest")
    a = p.parse_args(argv)
    expected = a.expected
    if a.manifest:
        with open(a.manifest) as f:
            expected = json.load(f)["total_sent"]
    rep = check(a.output, expected)
    print(json.dumps(rep, indent=2))
    return 0 if rep["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
