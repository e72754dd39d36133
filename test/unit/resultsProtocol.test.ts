import * as assert from 'node:assert/strict';
import {
  chartRequestKey,
  filterPlaceholders,
  initialDataBlock,
  pageRequestKey,
  parseFilterTime,
  parseWebviewMessage,
  type InitialData,
  type ResultsSummary,
} from '../../src/results/resultsProtocol';

describe('results webview protocol', () => {
  it('writes file values into the first-screen data block as text that cannot end it or open a tag', () => {
    const hostile = '</script><script>alert(1)</script><!-- <img src=x onerror=alert(2)>';
    const data = { summary: { outputFolder: hostile } as unknown as ResultsSummary, pageSize: 100 } satisfies InitialData;
    const html = initialDataBlock(data);
    const inner = /^<script type="application\/json" id="initial-data">(.*)<\/script>\n$/s.exec(html);
    assert.ok(inner, html);
    assert.ok(!inner[1].includes('<'), 'no "<" inside the block');
    assert.deepEqual(JSON.parse(inner[1]), data, 'JSON.parse gives the values back unchanged');
    assert.equal(initialDataBlock(undefined), '');
  });

  it('keys requests by what they ask for, not by how the filter is written', () => {
    const page = { table: 'aggregates' as const, offset: 0, limit: 100, sort: { column: 'window_start', direction: 'desc' as const } };
    assert.equal(pageRequestKey({ ...page, filter: {} }), pageRequestKey(page));
    assert.equal(
      pageRequestKey({ ...page, filter: { sensors: ['b', 'a'], from: 'x' } }),
      pageRequestKey({ ...page, filter: { from: 'x', sensors: ['a', 'b'] } }),
    );
    assert.notEqual(pageRequestKey({ ...page, offset: 100 }), pageRequestKey(page));
    assert.notEqual(pageRequestKey({ ...page, sort: { column: 'window_start', direction: 'asc' } }), pageRequestKey(page));
    assert.equal(
      chartRequestKey({ maxPoints: 240, maxSensors: 12, filter: { sensors: undefined, from: undefined, to: undefined } }),
      chartRequestKey({ maxPoints: 240, maxSensors: 12, filter: {} }),
    );
    assert.notEqual(chartRequestKey({ maxPoints: 240, maxSensors: 12 }), chartRequestKey({ maxPoints: 300, maxSensors: 12 }));
  });

  it('accepts well-formed messages from the webview', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
    const page = parseWebviewMessage({
      type: 'page',
      requestId: 3,
      request: {
        table: 'alerts',
        offset: 100,
        limit: 100,
        sort: { column: 'ts', direction: 'asc' },
        filter: { sensors: ['sensor-001'], from: '2026-11-25T10:00' },
      },
    });
    assert.equal(page?.type, 'page');
    const query = parseWebviewMessage({ type: 'query', requestId: 4, request: { sql: 'SELECT 1', offset: 0, limit: 50 } });
    assert.equal(query?.type, 'query');
    const exported = parseWebviewMessage({ type: 'export', requestId: 5, format: 'json', source: { kind: 'table', table: 'dead_letter' } });
    assert.equal(exported?.type, 'export');
  });

  it('drops anything malformed instead of passing it on', () => {
    for (const raw of [
      null,
      'ready',
      { type: 'nope' },
      { type: 'page', requestId: 1, request: { table: 'users', offset: 0, limit: 10 } },
      { type: 'page', requestId: 1, request: { table: 'alerts', offset: -1, limit: 10 } },
      { type: 'page', requestId: 1, request: { table: 'alerts', offset: 0, limit: 100000 } },
      { type: 'page', requestId: 1, request: { table: 'alerts', offset: 0, limit: 10, sort: { column: 'ts', direction: 'sideways' } } },
      { type: 'page', requestId: 'x', request: { table: 'alerts', offset: 0, limit: 10 } },
      { type: 'page', requestId: 1, request: { table: 'alerts', offset: 0, limit: 10, filter: { sensors: [1, 2] } } },
      { type: 'query', requestId: 1, request: { sql: 42, offset: 0, limit: 10 } },
      { type: 'export', requestId: 1, format: 'xml', source: { kind: 'table', table: 'alerts' } },
      { type: 'export', requestId: 1, format: 'csv', source: { kind: 'file', path: '/etc/passwd' } },
      { type: 'openFile', file: 7 },
    ]) {
      assert.equal(parseWebviewMessage(raw), undefined, JSON.stringify(raw));
    }
  });

  it('reads filter times as UTC unless they carry a zone', () => {
    assert.equal(parseFilterTime('2026-11-25T10:00', 'From'), Date.UTC(2026, 10, 25, 10));
    assert.equal(parseFilterTime('2026-11-25 10:00:30', 'From'), Date.UTC(2026, 10, 25, 10, 0, 30));
    assert.equal(parseFilterTime('2026-11-25', 'From'), Date.UTC(2026, 10, 25));
    assert.equal(parseFilterTime('2026-11-25T10:00:00+02:00', 'From'), Date.UTC(2026, 10, 25, 8));
    assert.equal(parseFilterTime('2026-11-25T10:00:00.000Z', 'From'), Date.UTC(2026, 10, 25, 10));
    assert.equal(parseFilterTime('  ', 'From'), undefined);
    assert.equal(parseFilterTime(undefined, 'From'), undefined);
    assert.throws(() => parseFilterTime('yesterday', 'To'), /To must be a date and time/);
    assert.throws(() => parseFilterTime('2026-13-45T99:00', 'To'), /To must be a date/);
  });

  it("hints the data's own range in the From/To boxes, in whole minutes that keep every window when typed back", () => {
    const range = { from: '2026-12-06T09:58:45.000Z', to: '2026-12-06T10:03:20.000Z' };
    const hint = filterPlaceholders(range);
    assert.deepEqual(hint, { from: '2026-12-06 09:58', to: '2026-12-06 10:04' });
    assert.ok(parseFilterTime(hint.from, 'From')! <= Date.parse(range.from), 'the first window starts at or after From');
    assert.ok(parseFilterTime(hint.to, 'To')! >= Date.parse(range.to), 'the last window ends at or before To');
    // Already on a minute: kept as it is; across midnight and a year: the date follows.
    assert.deepEqual(filterPlaceholders({ from: '2026-12-06T10:00:00.000Z', to: '2026-12-06T10:05:00.000Z' }), {
      from: '2026-12-06 10:00',
      to: '2026-12-06 10:05',
    });
    assert.deepEqual(filterPlaceholders({ from: '2026-12-31T23:59:30.000Z', to: '2026-12-31T23:59:40.001Z' }), {
      from: '2026-12-31 23:59',
      to: '2027-01-01 00:00',
    });
    // No windows yet, or a range that is not a time: the format alone.
    assert.deepEqual(filterPlaceholders(null), { from: 'YYYY-MM-DD HH:MM', to: 'YYYY-MM-DD HH:MM' });
    assert.deepEqual(filterPlaceholders({ from: 'soon', to: '2026-12-06T10:00:00.000Z' }), {
      from: 'YYYY-MM-DD HH:MM',
      to: 'YYYY-MM-DD HH:MM',
    });
  });
});
