import * as assert from 'node:assert/strict';
import type { ScanRecord } from '../../src/kafka/topicScanTypes';
import {
  csvHeader,
  csvLines,
  exportJsonLine,
  gapText,
  mergeHistograms,
  pageEndNote,
  MAX_BUCKETS,
  prettyValue,
  preview,
  rowsWithGaps,
  valuePreview,
} from '../../src/views/messageBrowserModel';
import {
  browseAtOfLink,
  buildScanRequest,
  defaultForm,
  formOfBrowseAt,
  parseBrowseAt,
  parseBrowserMessage,
  parseRecordLink,
  parseUtcInput,
  type BrowserForm,
} from '../../src/views/messageBrowserProtocol';

const HOSTILE = '<img src=x onerror=alert(1)>';

function record(partition: number, offset: number, value: string | null = '{"t":1}', extra: Partial<ScanRecord> = {}): ScanRecord {
  return {
    partition,
    offset,
    timestamp: Date.UTC(2026, 0, 31, 12, 0, 0),
    key: `sensor-${partition}`,
    value,
    headers: {},
    keySize: 8,
    valueSize: value?.length ?? 0,
    size: 8 + (value?.length ?? 0),
    ...extra,
  };
}

function form(overrides: Partial<BrowserForm> = {}): BrowserForm {
  return { ...defaultForm([0, 1, 2]), ...overrides };
}

describe('message browser: the form becomes a scan request', () => {
  it('every partition chosen asks for all; a subset is named, sorted, once', () => {
    const all = buildScanRequest('sensor-data', form(), [0, 1, 2]);
    assert.equal(all.error, undefined);
    assert.equal(all.request?.partitions, 'all');
    const some = buildScanRequest('sensor-data', form({ partitions: [2, 0, 2] }), [0, 1, 2]);
    assert.deepEqual(some.request?.partitions, [0, 2]);
  });

  it('defaults: earliest, 200 results, committed, no filter', () => {
    const { request } = buildScanRequest('t', form(), [0, 1, 2]);
    assert.deepEqual(request, {
      topic: 't',
      partitions: 'all',
      start: { kind: 'earliest' },
      isolation: 'committed',
      where: undefined,
      limit: 200,
      sinceMs: undefined,
      untilMs: undefined,
    });
  });

  it('each start: newest − N, offsets of the chosen partitions only, a UTC time, tail', () => {
    assert.deepEqual(buildScanRequest('t', form({ start: 'newest', newestCount: 50 }), [0, 1, 2]).request?.start, {
      kind: 'newest',
      count: 50,
    });
    assert.deepEqual(
      buildScanRequest('t', form({ start: 'offsets', partitions: [0, 1], offsets: { '0': 120, '2': 7 } }), [0, 1, 2]).request?.start,
      { kind: 'offsets', offsets: { 0: 120 } },
    );
    assert.deepEqual(buildScanRequest('t', form({ start: 'timestamp', time: '2026-01-31T12:00' }), [0, 1, 2]).request?.start, {
      kind: 'timestamp',
      timestampMs: Date.UTC(2026, 0, 31, 12, 0, 0),
    });
    assert.deepEqual(buildScanRequest('t', form({ start: 'tail' }), [0, 1, 2]).request?.start, { kind: 'tail' });
  });

  it('says which field is wrong and why', () => {
    assert.deepEqual(buildScanRequest('t', form({ partitions: [] }), [0, 1, 2]), {
      error: 'Choose at least one partition.',
      field: 'partitions',
    });
    assert.equal(buildScanRequest('t', form({ partitions: [7] }), [0, 1, 2]).error, 't has no partition 7 (it has 3).');
    assert.equal(buildScanRequest('t', form({ limit: 0 }), [0, 1, 2]).error !== undefined, true);
    assert.equal(buildScanRequest('t', form({ limit: 2.5 }), [0, 1, 2]).error !== undefined, true);
    const time = buildScanRequest('t', form({ start: 'timestamp', time: 'yesterday' }), [0, 1, 2]);
    assert.equal(time.error !== undefined && 'field' in time && time.field, 'start');
    const offset = buildScanRequest('t', form({ start: 'offsets', offsets: { '1': -3 } }), [0, 1, 2]);
    assert.match(offset.error ?? '', /partition 1/);
    assert.equal(buildScanRequest('t', form({ sinceMs: 10, untilMs: 10 }), [0, 1, 2]).error !== undefined, true);
  });

  it('the WHERE goes as typed (trimmed); an empty one is no filter', () => {
    assert.equal(buildScanRequest('t', form({ where: "  key = 'a'  " }), [0, 1, 2]).request?.where, "key = 'a'");
    assert.equal(buildScanRequest('t', form({ where: '   ' }), [0, 1, 2]).request?.where, undefined);
  });

  it('the time box is read as UTC, with or without seconds; anything else is refused', () => {
    assert.equal(parseUtcInput('2026-01-31T12:00:05'), Date.UTC(2026, 0, 31, 12, 0, 5));
    assert.equal(parseUtcInput('2026-01-31T12:00:05.250'), Date.UTC(2026, 0, 31, 12, 0, 5, 250));
    assert.equal(parseUtcInput('2026-01-31T12:00Z'), undefined);
    assert.equal(parseUtcInput('2026-13-31T12:00'), undefined);
    assert.equal(parseUtcInput(''), undefined);
  });
});

describe('message browser: what the page sends is checked', () => {
  it('accepts the protocol', () => {
    assert.deepEqual(parseBrowserMessage({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseBrowserMessage({ type: 'next', extra: 1 }), { type: 'next' });
    assert.deepEqual(parseBrowserMessage({ type: 'export', format: 'csv' }), { type: 'export', format: 'csv' });
    const run = parseBrowserMessage({ type: 'run', form: form({ where: 'size > 10' }) });
    assert.equal(run?.type, 'run');
  });

  it('refuses anything else', () => {
    for (const bad of [
      null,
      'run',
      { type: 'export', format: 'xml' },
      { type: 'run' },
      { type: 'run', form: { ...form(), start: 'latest' } },
      { type: 'run', form: { ...form(), partitions: ['0'] } },
      { type: 'run', form: { ...form(), isolation: 'read_committed' } },
      { type: 'run', form: { ...form(), where: 'x'.repeat(20_000) } },
      { type: 'run', form: { ...form(), offsets: { p0: 1 } } },
      { type: 'run', form: { ...form(), sinceMs: 'now' } },
      { type: 'eval', code: 'x' },
    ])
      assert.equal(parseBrowserMessage(bad), undefined, JSON.stringify(bad)?.slice(0, 80));
  });
});

describe('message browser: links into it', () => {
  it('browseAt takes {topic, start, partitions?, where?} and fills the form', () => {
    const at = parseBrowseAt({ topic: 'sensor-data', start: { kind: 'offsets', offsets: { 1: 42 } }, partitions: [1], limit: 1 });
    assert.ok(at);
    const filled = formOfBrowseAt(at, [0, 1, 2]);
    assert.equal(filled.start, 'offsets');
    assert.deepEqual(filled.offsets, { '1': 42 });
    assert.deepEqual(filled.partitions, [1]);
    assert.equal(filled.limit, 1);
    assert.deepEqual(buildScanRequest('sensor-data', filled, [0, 1, 2]).request?.start, { kind: 'offsets', offsets: { 1: 42 } });
    const byTime = formOfBrowseAt({ topic: 't', start: { kind: 'timestamp', timestampMs: Date.UTC(2026, 0, 31, 12, 0, 7) } }, [0]);
    assert.equal(byTime.time, '2026-01-31T12:00:07');
    assert.equal(parseBrowseAt({ topic: 't', start: { kind: 'offsets', offsets: { 1: -1 } } }), undefined);
    assert.equal(parseBrowseAt({ topic: 't', start: { kind: 'latest' } }), undefined);
    assert.equal(parseBrowseAt({ start: { kind: 'earliest' } }), undefined);
  });

  it('a dead letter opens at exactly its offset; an alert by its event id, from before its time, quoted', () => {
    const dead = parseRecordLink({ type: 'showRecord', partition: 2, offset: 977 });
    assert.ok(dead);
    const at = browseAtOfLink(dead, 'sensor-data');
    assert.deepEqual(at.start, { kind: 'offsets', offsets: { 2: 977 } });
    assert.deepEqual(at.partitions, [2]);
    const alert = parseRecordLink({ type: 'showAlertSource', eventId: "e'1", sensorId: 'sensor-007', ts: 1_000_000 });
    assert.ok(alert);
    const found = browseAtOfLink(alert, 'sensor-data');
    assert.equal(found.where, "key = 'sensor-007' AND (json->>'event_id') = 'e''1'");
    assert.equal(found.start.kind, 'timestamp');
    assert.equal(parseRecordLink({ type: 'showRecord', partition: -1, offset: 3 }), undefined);
    assert.equal(parseRecordLink({ type: 'page', requestId: 1 }), undefined);
  });
});

describe('message browser: rows, gaps and the histogram', () => {
  it('a gap shows before the record it precedes, per partition; trailing gaps come last', () => {
    const records = [record(0, 10), record(0, 13), record(1, 5), record(1, 6)];
    const rows = rowsWithGaps(records, [
      { partition: 1, from: 7, to: 7 },
      { partition: 0, from: 11, to: 12 },
    ]);
    assert.deepEqual(
      rows.map((r) => (r.kind === 'gap' ? `gap ${r.partition}:${r.from}-${r.to}` : `${r.record.partition}:${r.record.offset}`)),
      ['0:10', 'gap 0:11-12', '0:13', '1:5', '1:6', 'gap 1:7-7'],
    );
    assert.equal(gapText({ partition: 0, from: 11, to: 12 }), 'offsets 11–12: transaction marker or aborted record');
    assert.equal(gapText({ partition: 0, from: 7, to: 7 }), 'offset 7: transaction marker or aborted record');
  });

  it('histograms of several pages add up; another width folds into the wider', () => {
    const a = {
      widthMs: 1000,
      buckets: [
        { startMs: 0, all: 5, matched: 1 },
        { startMs: 1000, all: 3, matched: 0 },
      ],
    };
    const b = { widthMs: 1000, buckets: [{ startMs: 1000, all: 2, matched: 2 }] };
    assert.deepEqual(mergeHistograms(a, b), {
      widthMs: 1000,
      buckets: [
        { startMs: 0, all: 5, matched: 1 },
        { startMs: 1000, all: 5, matched: 2 },
      ],
    });
    const wide = { widthMs: 2000, buckets: [{ startMs: 2000, all: 1, matched: 1 }] };
    assert.deepEqual(mergeHistograms(a, wide).buckets, [
      { startMs: 0, all: 8, matched: 1 },
      { startMs: 2000, all: 1, matched: 1 },
    ]);
    assert.deepEqual(mergeHistograms(undefined, b), b);
    const many = { widthMs: 1, buckets: Array.from({ length: 1000 }, (_, i) => ({ startMs: i, all: 1, matched: 0 })) };
    const merged = mergeHistograms(undefined, many);
    assert.ok(merged.buckets.length <= MAX_BUCKETS, String(merged.buckets.length));
    assert.equal(
      merged.buckets.reduce((s, x) => s + x.all, 0),
      1000,
    );
  });

  it('the line under the table says how a page ended: the end, a next page, a stall or the time limit, a tail, gaps only counted', () => {
    const page = { tail: false, cancelled: false, hasNext: false };
    assert.equal(pageEndNote(page), 'End of the partitions as of the scan start.');
    assert.match(pageEndNote({ ...page, hasNext: true }), /^More to scan: Next page continues/);
    assert.match(
      pageEndNote({ ...page, hasNext: true, stopped: 'stalled' }),
      /^Stopped early: the broker sent nothing for 15 s\. Next page tries again/,
    );
    assert.match(pageEndNote({ ...page, hasNext: true, stopped: 'timeout' }), /^Stopped early: the scan reached its time limit/);
    assert.match(pageEndNote({ ...page, tail: true, hasNext: true }), /^Following the topic/);
    assert.equal(pageEndNote({ ...page, tail: true, cancelled: true }), 'The tail stopped.');
    assert.equal(
      pageEndNote({ ...page, gapsOmitted: 2345 }),
      'End of the partitions as of the scan start. 2,345 more gaps (transaction markers or aborted records) not listed: a page lists at most 1,000.',
    );
    assert.match(pageEndNote({ ...page, gapsOmitted: 1 }), / 1 more gap \(/);
  });

  it('a preview is one line, cut; base64 says so; JSON is indented in the record view', () => {
    assert.equal(preview('a\nb'), 'a ⏎ b');
    assert.equal(preview('x'.repeat(300), 10), `${'x'.repeat(9)}…`);
    assert.equal(preview(null), 'NULL');
    assert.match(valuePreview(record(0, 1, 'AAEC', { valueEncoding: 'base64' })), /^base64: AAEC$/);
    assert.deepEqual(prettyValue(record(0, 1, '{"a":1}')), { text: '{\n  "a": 1\n}', json: true });
    assert.deepEqual(prettyValue(record(0, 1, '{not json')), { text: '{not json', json: false });
    assert.deepEqual(prettyValue(record(0, 1, HOSTILE)), { text: HOSTILE, json: false });
  });
});

describe('message browser: export', () => {
  it('JSON lines carry the names of pipeline messages --json', () => {
    const line = exportJsonLine(record(1, 9, HOSTILE, { headers: { 'pipeline-control': 'stop' } }));
    assert.ok(line.endsWith('\n'));
    assert.deepEqual(JSON.parse(line), {
      partition: 1,
      offset: 9,
      timestamp: Date.UTC(2026, 0, 31, 12, 0, 0),
      key: 'sensor-1',
      value: HOSTILE,
      headers: { 'pipeline-control': 'stop' },
      size: 8 + HOSTILE.length,
    });
  });

  it('CSV: one header, then rows quoted where they must be, headers as JSON', () => {
    assert.equal(csvHeader(), 'partition,offset,timestamp,time,key,value,headers,size\r\n');
    const text = csvLines([record(0, 1, 'a,"b"', { headers: { h: 'v' } })]);
    assert.equal(text, `0,1,${Date.UTC(2026, 0, 31, 12)},2026-01-31T12:00:00.000Z,sensor-0,"a,""b""","{""h"":""v""}",${8 + 5}\r\n`);
    assert.equal(csvLines([]), '');
  });
});
