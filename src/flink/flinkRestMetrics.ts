// Flink's REST API for metrics: job metrics, a vertex's metrics over its subtasks and their names, its watermarks.
import { jobPath, restJson } from './flinkRestCall';
import type { AggregatedMetric } from './flinkRestTypes';

/** GET /jobs/:id/metrics?get=…: job-level metrics (numRestarts, uptime, …) as numbers; missing ones are left out. */
export async function fetchJobMetrics(restUrl: string, jobId: string, names: string[], timeoutMs = 3000): Promise<Map<string, number>> {
  const body = await restJson<{ id: string; value: string }[]>(
    restUrl,
    jobPath(jobId, `/metrics?get=${names.map(encodeMetricName).join(',')}`),
    timeoutMs,
  );
  return new Map(body.filter((m) => m.value !== undefined && Number.isFinite(Number(m.value))).map((m) => [m.id, Number(m.value)]));
}

/**
 * GET /jobs/:id/vertices/:vid/subtasks/metrics?get=…&agg=min,max,sum: metrics of one vertex aggregated over its
 * subtasks, one request for every metric asked for.
 */
export async function fetchVertexMetrics(
  restUrl: string,
  jobId: string,
  vertexId: string,
  names: string[],
  timeoutMs = 3000,
): Promise<Map<string, AggregatedMetric>> {
  const body = await restJson<{ id: string; min?: number; max?: number; sum?: number; avg?: number }[]>(
    restUrl,
    jobPath(
      jobId,
      `/vertices/${encodeURIComponent(vertexId)}/subtasks/metrics?get=${names.map(encodeMetricName).join(',')}&agg=min,max,sum,avg`,
    ),
    timeoutMs,
  );
  return new Map(body.map((m) => [m.id, { min: m.min, max: m.max, sum: m.sum, avg: m.avg }]));
}

/**
 * Metric names go into the query as Flink lists them: it does not decode percent-escapes there, so `[` and `]`
 * (operator ids like `Source__kafka_src[1]`) stay as they are (the URL parser keeps them too); only what would end
 * or split the query is escaped.
 */
function encodeMetricName(name: string): string {
  return name.replace(/[&#,%\s]/g, (c) => encodeURIComponent(c));
}

/** GET /jobs/:id/vertices/:vid/watermarks: the input watermark of each subtask (epoch ms; undefined before the first). */
export async function fetchVertexWatermarks(
  restUrl: string,
  jobId: string,
  vertexId: string,
  timeoutMs = 3000,
): Promise<(number | undefined)[]> {
  const body = await restJson<{ id: string; value: string }[]>(
    restUrl,
    jobPath(jobId, `/vertices/${encodeURIComponent(vertexId)}/watermarks`),
    timeoutMs,
  );
  return body.filter((m) => m.id.endsWith('.currentInputWatermark')).map((m) => watermarkValue(Number(m.value)));
}

/** Flink reports "no watermark yet" as Long.MIN_VALUE (and JSON numbers lose its last digits). */
export function watermarkValue(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) || value <= -9.2e18 || value >= 9.2e18 ? undefined : value;
}

/** GET /jobs/:id/vertices/:vid/subtasks/metrics: the names of the metrics its subtasks report (no values). */
export async function listVertexMetrics(restUrl: string, jobId: string, vertexId: string, timeoutMs = 3000): Promise<string[]> {
  const body = await restJson<{ id: string }[]>(
    restUrl,
    jobPath(jobId, `/vertices/${encodeURIComponent(vertexId)}/subtasks/metrics`),
    timeoutMs,
  );
  return body.map((m) => m.id);
}

/** GET /jobs/:id/vertices/:vid/subtasks/:index/metrics: the names of the metrics one subtask reports (no values). */
export async function listSubtaskMetrics(
  restUrl: string,
  jobId: string,
  vertexId: string,
  subtask: number,
  timeoutMs = 3000,
): Promise<string[]> {
  const body = await restJson<{ id: string }[]>(
    restUrl,
    jobPath(jobId, `/vertices/${encodeURIComponent(vertexId)}/subtasks/${subtask}/metrics`),
    timeoutMs,
  );
  return body.map((m) => m.id);
}

/**
 * The Kafka partitions a source subtask reads, from the metrics the Kafka source registers for each partition it was
 * given (`…KafkaSourceReader.topic.<topic>.partition.<p>.currentOffset`), in order.
 */
export function partitionsOfSubtask(metricNames: string[]): { topic: string; partition: number }[] {
  const found: { topic: string; partition: number }[] = [];
  for (const name of metricNames) {
    const m = /KafkaSourceReader\.topic\.(.+)\.partition\.(\d+)\.currentOffset$/.exec(name);
    if (m) found.push({ topic: m[1], partition: Number(m[2]) });
  }
  return found.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}
