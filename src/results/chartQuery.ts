// The SQL behind the charts: mean temperature per sensor and events per window, bucketed to at most maxPoints points.
import type { ChartRequest, ChartResult, EventsPoint, ResultsSummary, TemperaturePoint } from './resultsProtocol';
import { whereClause } from './queries';
import { sqlList, toNumber, type RunSql } from './sql';

/**
 * Mean temperature per window and sensor, and events per window, aggregated in DuckDB from the aggregates table
 * `base`: windows are merged into buckets so that a line has at most `maxPoints` points, whatever the number of
 * rows. `summary` is the summary of this data version when there is one (it already knows the sensors).
 */
export async function readChart(
  run: RunSql,
  request: ChartRequest,
  base: string,
  summary: ResultsSummary | undefined,
): Promise<ChartResult> {
  const started = performance.now();
  const maxPoints = Math.max(10, Math.min(request.maxPoints ?? 300, 5000));
  const maxSensors = Math.max(1, Math.min(request.maxSensors ?? 12, 50));
  const allWhere = whereClause('aggregates', request.filter);
  // Without a filter the summary of this data version already knows the sensors.
  const known = allWhere === 'TRUE' ? summary : undefined;
  const [[lo, hi, windowMs, rowCount, distinctSensors]] = await run(
    `SELECT epoch_ms(min(window_start)), epoch_ms(max(window_start)), ` +
      `min(epoch_ms(window_end) - epoch_ms(window_start)) FILTER (WHERE window_end > window_start), count(*), ` +
      `${known ? 'NULL' : 'count(DISTINCT sensor_id)'} FROM ${base} WHERE ${allWhere}`,
  );
  const sensorTotal = known ? known.sensorCount : toNumber(distinctSensors);
  const empty: ChartResult = { windowMs: 0, bucketMs: 0, from: null, to: null, series: [], totalSensors: 0, events: [], elapsedMs: 0 };
  if (lo === null || lo === undefined) return { ...empty, elapsedMs: performance.now() - started };
  let from = toNumber(lo);
  const to = toNumber(hi);
  const window = Math.max(1, toNumber(windowMs) || 1000);
  // A long pause (an earlier run, an old test row) would squeeze the latest windows into a few points: without
  // a From filter, chart what follows the last pause longer than a fifth of the span, and say so.
  let earlierFrom: number | undefined;
  let where = allWhere;
  // Only worth a look when there are fewer rows per sensor than windows in the span (the data has holes).
  const sparse = toNumber(rowCount) / Math.max(1, sensorTotal) < 0.8 * ((to - from) / window + 1);
  if (!request.filter?.from && to - from > window * maxPoints && sparse) {
    const gap = await run(
      `SELECT ws FROM (SELECT ws, ws - lag(ws) OVER (ORDER BY ws) AS gap FROM (SELECT DISTINCT epoch_ms(window_start) AS ws FROM ${base} WHERE ${allWhere})) ` +
        `WHERE gap > ${Math.floor((to - from) / 5)} ORDER BY ws DESC LIMIT 1`,
    );
    if (gap.length > 0) {
      earlierFrom = from;
      from = toNumber(gap[0][0]);
      where = `${allWhere} AND window_start >= epoch_ms(${from})`;
    }
  }
  const windowsInRange = Math.floor((to - from) / window) + 1;
  const bucketMs = window * Math.max(1, Math.ceil(windowsInRange / maxPoints));
  const bucket = `((epoch_ms(window_start) - ${from}) // ${bucketMs})`;

  let sensors: string[];
  if (request.filter?.sensors && request.filter.sensors.length > 0) sensors = [...request.filter.sensors].sort().slice(0, maxSensors);
  else if (known && earlierFrom === undefined) sensors = known.sensors.slice(0, maxSensors);
  else
    sensors = (
      await run(`SELECT sensor_id FROM ${base} WHERE ${where} AND sensor_id IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT ${maxSensors}`)
    ).map((r) => String(r[0]));

  const series = new Map<string, TemperaturePoint[]>(sensors.map((s) => [s, []]));
  if (sensors.length > 0) {
    const points = await run(
      `SELECT sensor_id, ${bucket} AS k, coalesce(sum(avg_temperature * event_count) / nullif(sum(event_count), 0), avg(avg_temperature)), ` +
        `coalesce(sum(anomaly_count), 0), max(max_temperature) FROM ${base} WHERE ${where} AND sensor_id IN (SELECT unnest(${sqlList(sensors)})) ` +
        `GROUP BY ALL ORDER BY sensor_id, k`,
    );
    for (const [sensor, k, mean, anomalies, max] of points) {
      series
        .get(String(sensor))
        ?.push([
          from + toNumber(k) * bucketMs,
          mean === null ? null : toNumber(mean),
          toNumber(anomalies),
          max === null ? null : toNumber(max),
        ]);
    }
  }
  const events = (
    await run(
      `SELECT ${bucket} AS k, sum(event_count) / count(DISTINCT window_start), coalesce(sum(anomaly_count), 0) FROM ${base} WHERE ${where} GROUP BY ALL ORDER BY k`,
    )
  ).map(([k, perWindow, anomalies]): EventsPoint => [from + toNumber(k) * bucketMs, toNumber(perWindow), toNumber(anomalies)]);
  return {
    windowMs: window,
    bucketMs,
    from,
    to: to + window,
    series: sensors.map((sensor) => ({ sensor, points: series.get(sensor) ?? [] })),
    totalSensors: sensorTotal,
    earlierFrom,
    events,
    elapsedMs: performance.now() - started,
  };
}
