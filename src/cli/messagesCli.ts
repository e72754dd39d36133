// `pipeline messages`: the message browser's engine on the command line — seek, filter with a DuckDB WHERE, print.
import { KafkaAdminClient } from '../kafka/kafkaAdmin';
import { parseBootstrapServers } from '../kafka/kafkaClient';
import { parseScanStart } from '../kafka/scanPlan';
import { MAX_SCAN_LIMIT, scanTopic } from '../kafka/topicScan';
import type { ScanPage, ScanRecord, ScanRequest } from '../kafka/topicScanTypes';
import { UserError } from '../shared/errors';
import { bootstrapOption, clusterOf, configOf, securityOption, workspaceOption, type CliCommand } from './context';

/** One record as kcat -J names its fields: epoch-ms timestamp, text key and value, headers as an object. */
export function recordJson(r: ScanRecord): string {
  return JSON.stringify({
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key,
    value: r.value,
    ...(r.valueEncoding ? { valueEncoding: r.valueEncoding } : {}),
    headers: r.headers,
    size: r.size,
  });
}

function recordLine(r: ScanRecord): string {
  const headers = Object.keys(r.headers).length ? `  headers ${JSON.stringify(r.headers)}` : '';
  const value = r.valueEncoding ? `(base64) ${r.value}` : String(r.value);
  return `${r.partition}:${r.offset}  ${new Date(r.timestamp).toISOString()}  key ${JSON.stringify(r.key)}  ${value}${headers}`;
}

export function summaryLine(page: ScanPage): string {
  const gaps = page.gaps.reduce((sum, g) => sum + (g.to - g.from + 1), 0);
  const mb = (page.progress.scannedBytes / 1e6).toFixed(page.progress.scannedBytes < 1e6 ? 3 : 1);
  const next = page.cursor
    ? ` More after ${page.cursor.positions.map((p) => `${p.partition}:${p.position}`).join(',')} (--from that to go on).`
    : ' Every chosen partition was read to its end.';
  return (
    `Scanned ${page.progress.scannedMessages} messages (${mb} MB), matched ${page.progress.matched}; ` +
    `${gaps} offset${gaps === 1 ? '' : 's'} skipped in ${page.gaps.length + (page.gapsOmitted ?? 0)} gap${page.gaps.length === 1 ? '' : 's'} (transaction markers or aborted records).` +
    (page.cancelled ? ' Cancelled.' : page.stopped ? ` Stopped (${page.stopped}).` : next)
  );
}

function parsePartitions(text: string | undefined): number[] | 'all' {
  if (text === undefined || text === 'all') return 'all';
  if (!/^\d+(,\d+)*$/.test(text.trim())) throw new UserError(`--partitions must list partition numbers, e.g. 0,1 (got ${text}).`);
  return [...new Set(text.trim().split(',').map(Number))];
}

export const messagesCli: Record<string, CliCommand> = {
  messages: {
    usage:
      'pipeline messages [TOPIC] [--from earliest|newest-N|tail|TIME|P:O,…] [--partitions 0,1] [--where SQL] [--limit N] [--isolation committed|uncommitted] [--json] [--bootstrap-servers HOST:PORT]',
    summary:
      "reads a topic's messages (default: the configured topic) from the earliest, the newest N per partition, a time (ISO-8601 or epoch ms, Kafka's offsets-for-times), offsets per partition or the live tail, up to the ends fixed at the start; --where filters with a DuckDB expression over kafka_partition, kafka_offset, kafka_timestamp, key, value, json, headers, size (e.g. \"json.temperature::DOUBLE > 30 AND key = 'sensor-007'\"); --limit caps the matches (default 100); --json prints one object per message (partition, offset, timestamp, key, value, headers, size)",
    positionals: 1,
    options: {
      ...workspaceOption,
      ...bootstrapOption,
      ...securityOption,
      from: { type: 'string' },
      partitions: { type: 'string' },
      where: { type: 'string' },
      limit: { type: 'string' },
      isolation: { type: 'string' },
      json: { type: 'boolean' },
    },
    async run(ctx) {
      const topic = ctx.positionals[0] ?? configOf(ctx).topic().value;
      const start = parseScanStart((ctx.values.from as string | undefined) ?? 'earliest');
      const limitText = (ctx.values.limit as string | undefined) ?? '100';
      const limit = Number(limitText);
      if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_SCAN_LIMIT)
        throw new UserError(`--limit must be a whole number from 1 to ${MAX_SCAN_LIMIT} (got ${limitText}).`);
      const isolation = (ctx.values.isolation as string | undefined) ?? 'committed';
      if (isolation !== 'committed' && isolation !== 'uncommitted')
        throw new UserError(`--isolation must be committed or uncommitted (got ${isolation}).`);
      const request: ScanRequest = {
        topic,
        partitions: parsePartitions(ctx.values.partitions as string | undefined),
        start,
        isolation,
        where: ctx.values.where as string | undefined,
        limit,
      };
      const cluster = clusterOf(ctx);
      const client = new KafkaAdminClient(
        { bootstrapServers: parseBootstrapServers(cluster.bootstrapServers), ...cluster.connection },
        10_000,
      );
      try {
        let lastShown = Date.now();
        const page = await scanTopic(client, request, {
          signal: ctx.signal,
          onProgress: (p) => {
            if (!process.stderr.isTTY || Date.now() - lastShown < 2000) return;
            lastShown = Date.now();
            ctx.progress(`… ${p.scannedMessages} messages scanned, ${p.matched} matched`);
          },
        });
        const json = ctx.values.json === true;
        for (const r of page.records) ctx.print(json ? recordJson(r) : recordLine(r));
        if (json) ctx.progress(summaryLine(page));
        else ctx.print(summaryLine(page));
        return page.cancelled ? 130 : 0;
      } finally {
        await client.close();
      }
    },
  },
};
