// The browse section of `pipeline bench`: the message browser's engine (scanTopic) on a topic of generator events, beside kcat and Kafka's ConsumerPerformance.
import { spawn } from 'node:child_process';
import { checkJava } from '../../local/environment';
import { ensureKafkaTools } from '../../local/install';
import { runCommand } from '../../local/proc';
import { ensureTopic, parseBootstrapServers } from '../../kafka/kafkaClient';
import { KafkaAdminClient } from '../../kafka/kafkaAdmin';
import { fetchScanOffsets } from '../../kafka/kafkaMetadata';
import { MAX_SCAN_LIMIT, readRanges, scanTopic } from '../../kafka/topicScan';
import type { ScanCursor, ScanProgress, ScanRequest } from '../../kafka/topicScanTypes';
import { UserError } from '../../shared/errors';
import type { Figure } from './figures';
import { consumerPerformanceRate } from './jobBench';
import { benchConfluent } from './confluentClient';

const MB = 1024 * 1024;

export interface BrowseBenchOptions {
  bootstrap: string;
  events: number;
  stamp: string;
  progress: (line: string) => void;
  add: (f: Omit<Figure, 'section'>) => void;
  /** Fills a topic with the generator at rate 0. */
  runGenerator: (o: { topic: string; count: number }) => Promise<unknown>;
}

/** kcat reading the whole topic to its end: lines counted as they stream, never held. */
function kcatCount(bootstrap: string, topic: string): Promise<{ lines: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('kcat', ['-C', '-b', bootstrap, '-t', topic, '-e', '-o', 'beginning', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 5 * 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new UserError(`kcat could not run: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new UserError(`kcat failed (exit ${code}): ${stderr.trim().split('\n').pop() ?? ''}`));
      else resolve({ lines, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Every page of a scan from its start to the ends, the way the panel's Next page goes on. */
async function scanAll(
  admin: KafkaAdminClient,
  request: ScanRequest,
  onProgress?: (p: ScanProgress, before: number) => void,
): Promise<{ scanned: number; bytes: number; matched: number; seconds: number; pages: number }> {
  const started = performance.now();
  let cursor: ScanCursor | undefined;
  let scanned = 0;
  let bytes = 0;
  let matched = 0;
  let pages = 0;
  do {
    const before = scanned;
    const page = await scanTopic(admin, request, { cursor, timeoutMs: 10 * 60_000, onProgress: (p) => onProgress?.(p, before) });
    scanned += page.progress.scannedMessages;
    bytes += page.progress.scannedBytes;
    matched += page.records.length;
    cursor = page.cursor;
    pages++;
    if (page.stopped) throw new UserError(`The scan stopped early (${page.stopped}) after ${scanned} messages.`);
  } while (cursor);
  return { scanned, bytes, matched, seconds: (performance.now() - started) / 1000, pages };
}

/** Rounds of the filtered scan beside kafkajs alone and ConsumerPerformance. */
const ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Kafka's ConsumerPerformance over the whole topic: its fetch rate (records/s, the group's join not counted). */
async function consumerPerformance(java: string, tools: string, bootstrap: string, topic: string, total: number): Promise<number> {
  const perf = await runCommand(
    java,
    [
      '-Xmx512m',
      '-cp',
      `${tools}/*`,
      'org.apache.kafka.tools.ConsumerPerformance',
      '--bootstrap-server',
      bootstrap,
      '--topic',
      topic,
      '--num-records',
      String(total),
      '--timeout',
      '60000',
    ],
    { timeoutMs: 10 * 60_000 },
  );
  if (perf.code !== 0)
    throw new UserError(`Kafka's ConsumerPerformance failed (exit ${perf.code}): ${perf.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return consumerPerformanceRate(perf.stdout);
}

export async function benchBrowse(o: BrowseBenchOptions): Promise<void> {
  const { add, progress, bootstrap } = o;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const topic = `bench-browse-${o.stamp}`;
  await ensureTopic(bootstrap, topic, 3);
  const admin = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(bootstrap) }, 30_000);
  try {
    const stored = async () => (await fetchScanOffsets(admin, topic, 'committed')).reduce((n, p) => n + p.high - p.low, 0);
    const have = await stored();
    if (have < o.events) {
      progress(`[browse] filling ${topic} with ${fmt(o.events - have)} generator events…`);
      await o.runGenerator({ topic, count: o.events - have });
    }
    const total = await stored();
    const base: Omit<ScanRequest, 'start' | 'limit'> = { topic, partitions: 'all', isolation: 'committed' };

    // (a) The first page after a seek to the middle of the topic's time range.
    const first = await scanTopic(admin, { ...base, start: { kind: 'earliest' }, limit: 1 });
    const last = await scanTopic(admin, { ...base, start: { kind: 'newest', count: 1 }, limit: 3 });
    const from = Math.min(...first.records.map((r) => r.timestamp));
    const to = Math.max(...last.records.map((r) => r.timestamp));
    const middle = Math.round((from + to) / 2);
    for (const run of ['cold', 'warm']) {
      const started = performance.now();
      const page = await scanTopic(admin, { ...base, start: { kind: 'timestamp', timestampMs: middle }, limit: 100 });
      const seconds = (performance.now() - started) / 1000;
      if (page.records.length !== 100) throw new UserError(`The seek to the middle found ${page.records.length} records, not 100.`);
      add({
        name: `seek by time to the middle → first page of 100 (${run})`,
        value: seconds,
        unit: 's',
        budget: 1,
        note: 'offsets-for-times, a throw-away group joined, 100 records, the group deleted',
      });
    }

    // (b) The whole topic, filtered; and unfiltered, to see what the client alone costs. Memory sampled on the way.
    const marks = [Math.round(total / 4), total];
    const before = process.memoryUsage();
    add({ name: 'RSS before scanning', value: before.rss / MB, unit: 'MB', note: `heap used ${(before.heapUsed / MB).toFixed(0)} MB` });
    const rss = new Map<number, { rss: number; heap: number }>();
    let peakRss = 0;
    let peakHeap = 0;
    const sample = (scannedSoFar: number) => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      for (const mark of marks) if (scannedSoFar >= mark * 0.98 && !rss.has(mark)) rss.set(mark, { rss: m.rss, heap: m.heapUsed });
    };
    const where = 'json.temperature::DOUBLE > 35';
    const java = (await checkJava()).binary;
    const tools = await ensureKafkaTools(progress);
    /** kafkajs through the range reader, every record handed to a callback that only counts. */
    const kafkajsAlone = async () => {
      const started = performance.now();
      let count = 0;
      const ranges = (await fetchScanOffsets(admin, topic, 'committed')).map((p) => ({
        partition: p.partition,
        position: p.low,
        end: p.high,
      }));
      await readRanges(admin, topic, ranges, {
        isolation: 'committed',
        timeoutMs: 10 * 60_000,
        onRecords: (_p, messages) => {
          count += messages.length;
          return undefined;
        },
      });
      return count / ((performance.now() - started) / 1000);
    };

    // The filtered scan, kafkajs alone and ConsumerPerformance one after the other, ROUNDS times: on a shared
    // machine the rates drift by a third from one minute to the next, so each ratio is taken within its round.
    const rounds: { filtered: Awaited<ReturnType<typeof scanAll>>; kafkajs: number; consumer: number }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      progress(
        `[browse] round ${round} of ${ROUNDS}: a filtered scan of all ${fmt(total)} messages (${where}), kafkajs alone, ConsumerPerformance…`,
      );
      const filtered = await scanAll(admin, { ...base, start: { kind: 'earliest' }, limit: MAX_SCAN_LIMIT, where }, (p, before) =>
        sample(before + p.scannedMessages),
      );
      sample(filtered.scanned);
      if (filtered.scanned !== total) throw new UserError(`The filtered scan read ${filtered.scanned} messages of ${total}.`);
      rounds.push({ filtered, kafkajs: await kafkajsAlone(), consumer: await consumerPerformance(java, tools, bootstrap, topic, total) });
    }
    const rateOf = (r: (typeof rounds)[number]) => r.filtered.scanned / r.filtered.seconds;
    const each = (f: (r: (typeof rounds)[number]) => number, digits = 0) =>
      rounds.map((r) => (digits ? f(r).toFixed(digits) : fmt(f(r)))).join(', ');
    const filteredRate = median(rounds.map(rateOf));
    const medianRound = rounds.find((r) => rateOf(r) === filteredRate) ?? rounds[0];
    add({
      name: `filtered scan of the whole topic (${where})`,
      value: filteredRate,
      unit: 'msgs/s',
      note: `median of ${ROUNDS} rounds (${each(rateOf)}); ${fmt(medianRound.filtered.scanned)} messages, ${(medianRound.filtered.bytes / MB / medianRound.filtered.seconds).toFixed(1)} MB/s, ${fmt(medianRound.filtered.matched)} matched, ${medianRound.filtered.seconds.toFixed(1)} s, ${medianRound.filtered.pages} page(s)`,
    });
    const kafkajsRate = median(rounds.map((r) => r.kafkajs));
    add({
      name: 'kafkajs alone through the range reader (no decoding, no DuckDB)',
      value: kafkajsRate,
      unit: 'msgs/s',
      note: `median of ${ROUNDS} rounds (${each((r) => r.kafkajs)})`,
    });
    const consumerRate = median(rounds.map((r) => r.consumer));
    add({
      name: 'Kafka ConsumerPerformance (fetch records/s)',
      value: consumerRate,
      unit: 'msgs/s',
      note: `median of ${ROUNDS} rounds (${each((r) => r.consumer)})`,
    });

    progress('[browse] the same scan without a filter (kafkajs, decoding, no DuckDB)…');
    const plain = await scanAll(admin, { ...base, start: { kind: 'earliest' }, limit: MAX_SCAN_LIMIT, where: 'false' }, (p, before) =>
      sample(before + p.scannedMessages),
    );
    add({
      name: 'scan of the whole topic, WHERE false (client + DuckDB append, no JSON)',
      value: plain.scanned / plain.seconds,
      unit: 'msgs/s',
    });

    // The librdkafka-based client on the same topic (issue 29): alone, and feeding the same DuckDB filter.
    const confluent = await benchConfluent({ admin, bootstrap, topic, total, where, progress, add });

    progress('[browse] kcat -C -e -o beginning -q on the same topic…');
    const kcat = await kcatCount(bootstrap, topic);
    if (kcat.lines !== total) progress(`  kcat printed ${kcat.lines} lines for ${total} messages (values with newlines, or a short read)`);
    add({ name: 'kcat -C -e -o beginning -q (lines counted)', value: kcat.lines / kcat.seconds, unit: 'msgs/s' });

    add({
      name: 'filtered scan ÷ ConsumerPerformance',
      value: median(rounds.map((r) => rateOf(r) / r.consumer)),
      unit: '×',
      atLeast: 0.3,
      note: `median of the ${ROUNDS} rounds' own ratios (${each((r) => rateOf(r) / r.consumer, 2)}); kcat ÷ ConsumerPerformance ${(kcat.lines / kcat.seconds / consumerRate).toFixed(2)}×`,
    });
    for (const arm of confluent) {
      add({
        name: `${arm.label} ÷ ConsumerPerformance`,
        value: arm.read.messages / arm.read.seconds / consumerRate,
        unit: '×',
        ...(arm.filtered ? { atLeast: 0.3 } : {}),
      });
    }
    const bound = kafkajsRate < consumerRate * 0.3;
    progress(
      bound
        ? `  the Kafka client is the bound: kafkajs alone reads ${fmt(kafkajsRate)} msgs/s, ${(kafkajsRate / consumerRate).toFixed(2)}× ConsumerPerformance, before any decoding or filtering`
        : `  kafkajs alone reads ${fmt(kafkajsRate)} msgs/s (${(kafkajsRate / consumerRate).toFixed(2)}× ConsumerPerformance); the rest is decoding and DuckDB`,
    );

    // (c) Memory while scanning: at a quarter of the topic and at its end (flat when it does not grow with size).
    for (const mark of marks) {
      const m = rss.get(mark);
      if (m) {
        add({
          name: `RSS after ${fmt(mark)} messages scanned`,
          value: m.rss / MB,
          unit: 'MB',
          note: `heap used ${(m.heap / MB).toFixed(0)} MB`,
        });
      }
    }
    add({ name: 'peak RSS while scanning', value: peakRss / MB, unit: 'MB', note: `peak heap used ${(peakHeap / MB).toFixed(0)} MB` });
  } finally {
    await admin.close();
  }
}
