// The results session without VS Code: its answers to the webview, its timers (debounce, poll, release) and its folder changes, over a fake store and a manual clock.
import * as assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { CacheUnavailableError } from '../../src/results/errors';
import { FIRST_PAGE, PAGE_SIZE } from '../../src/results/firstScreen';
import type { ChartResult, HostToWebview, PageResult, ResultsSummary } from '../../src/results/resultsProtocol';
import { ResultsSession } from '../../src/results/resultsSession';
import type { Clock, ResultsSessionHost, SessionStore } from '../../src/results/resultsSessionHost';

/** Timers that fire only when the test moves the time on. */
class ManualClock implements Clock {
  private time = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; callback: () => void; every?: number }>();

  setTimeout(callback: () => void, ms: number): number {
    this.timers.set(this.nextId, { at: this.time + ms, callback });
    return this.nextId++;
  }
  setInterval(callback: () => void, ms: number): number {
    this.timers.set(this.nextId, { at: this.time + ms, callback, every: ms });
    return this.nextId++;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  clearInterval(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  now(): number {
    return this.time;
  }
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, timer] = due;
      this.time = timer.at;
      if (timer.every) timer.at += timer.every;
      else this.timers.delete(id);
      timer.callback();
    }
    this.time = end;
  }
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((done) => setImmediate(done));
};

function summaryOf(folder: string, dataVersion = 1): ResultsSummary {
  return { outputFolder: folder, dataVersion } as ResultsSummary;
}

/** A store that answers at once and counts what it was asked. */
class FakeStore {
  refreshes = 0;
  closed = false;
  changed = false;
  version = 1;
  constructor(readonly folder: string) {}
  async refresh() {
    this.refreshes++;
    const changed = this.changed;
    if (changed) this.version++;
    this.changed = false;
    return { changed, added: changed ? 1 : 0, removed: 0, rewritten: 0, elapsedMs: 0 };
  }
  async summary() {
    return summaryOf(this.folder, this.version);
  }
  async prefetch() {
    return { summary: await this.summary(), page: { table: 'aggregates', rows: [] } as unknown as PageResult, chart: undefined };
  }
  async page(request: { offset: number }) {
    return { table: 'aggregates', rows: [], offset: request.offset } as unknown as PageResult;
  }
  async chart() {
    return { series: [] } as unknown as ChartResult;
  }
  async query() {
    throw new Error('Only SELECT statements can run here.');
  }
  async exportRows() {
    return { rows: 3, file: '' };
  }
  close() {
    this.closed = true;
  }
}

function setup(options: { output?: string; openFails?: Error } = {}) {
  const output = options.output ?? resolve('/tmp/kfl-session/output');
  const clock = new ManualClock();
  const logs: string[] = [];
  const stores: FakeStore[] = [];
  const opened: string[] = [];
  const watched: string[] = [];
  let onFilesChanged: () => void = () => undefined;
  const memory = new Map<string, unknown>();
  const memoryWrites: unknown[] = [];
  const exports: unknown[] = [];
  const host: ResultsSessionHost = {
    outputFolder: () => output,
    log: (line) => logs.push(line),
    memory: {
      get: <T>(key: string) => memory.get(key) as T | undefined,
      update: async (key, value) => {
        memoryWrites.push(value);
        memory.set(key, value);
      },
    },
    watchFolder: (folder, onChange) => {
      watched.push(folder);
      onFilesChanged = onChange;
      return { dispose: () => watched.splice(watched.indexOf(folder), 1) };
    },
    showIndexing: (work) => work,
    exportRows: async (store, format, source) => {
      exports.push({ format, source });
      return store.exportRows(source, format, '/dev/null');
    },
    openFile: async (path) => {
      opened.push(path);
    },
    openStore: async (folder) => {
      if (options.openFails) throw options.openFails;
      const store = new FakeStore(folder);
      stores.push(store);
      return store as unknown as SessionStore;
    },
    clock,
  };
  const session = new ResultsSession(host);
  const posted: HostToWebview[] = [];
  const view = { visible: true, post: (message: HostToWebview) => posted.push(message) };
  return {
    output,
    clock,
    logs,
    stores,
    opened,
    watched,
    memoryWrites,
    exports,
    session,
    posted,
    view,
    filesChanged: () => onFilesChanged(),
  };
}

/** Opens a view and sends `ready`; returns the messages posted so far and empties the list. */
async function openReady(t: ReturnType<typeof setup>): Promise<HostToWebview[]> {
  t.session.viewOpened(t.view);
  await t.session.handleMessage({ type: 'ready' });
  return t.posted.splice(0);
}

describe('the results session (the results view without VS Code)', () => {
  it('drops a malformed message with a line in the log', async () => {
    const t = setup();
    await t.session.handleMessage({ type: 'page', requestId: -1 });
    assert.deepEqual(t.posted, []);
    assert.ok(t.logs.includes('results: ignored a malformed message from the webview'));
  });

  it('answers `ready` with busy, init (summary and page size), not busy', async () => {
    const t = setup();
    const posted = await openReady(t);
    assert.deepEqual(posted, [
      { type: 'busy', busy: true, label: 'Reading the output folder…' },
      { type: 'init', summary: summaryOf(t.output), pageSize: PAGE_SIZE },
      { type: 'busy', busy: false },
    ]);
    assert.equal(t.stores.length, 1);
    assert.equal(t.stores[0].folder, t.output);
    assert.deepEqual(t.watched, [t.output]);
  });

  it('answers a page request with the same request id and the host time, after init', async () => {
    const t = setup();
    t.session.viewOpened(t.view);
    const ready = t.session.handleMessage({ type: 'ready' });
    const page = t.session.handleMessage({ type: 'page', requestId: 7, request: { ...FIRST_PAGE, offset: 200 } });
    await Promise.all([ready, page]);
    assert.deepEqual(
      t.posted.map((m) => m.type),
      ['busy', 'init', 'busy', 'pageResult'],
    );
    const answer = t.posted[3] as Extract<HostToWebview, { type: 'pageResult' }>;
    assert.equal(answer.requestId, 7);
    assert.equal(answer.result.offset, 200);
    assert.equal(typeof answer.hostMs, 'number');
  });

  it("reports a failed request on its channel, and a store that did not open in the load error's words", async () => {
    const t = setup();
    await openReady(t);
    await t.session.handleMessage({ type: 'query', requestId: 3, request: { sql: 'DROP TABLE x', offset: 0, limit: 10 } });
    assert.deepEqual(t.posted.splice(0), [
      { type: 'error', requestId: 3, channel: 'query', message: 'Only SELECT statements can run here.' },
    ]);

    const broken = setup({ openFails: new Error('disk gone') });
    const posted = await openReady(broken);
    assert.deepEqual(posted[1], {
      type: 'error',
      channel: 'load',
      message: `Could not read the output folder ${broken.output}: disk gone`,
    });
    await broken.session.handleMessage({ type: 'chart', requestId: 4, request: {} });
    assert.deepEqual(broken.posted, [
      { type: 'error', requestId: 4, channel: 'chart', message: `Could not read the output folder ${broken.output}: disk gone` },
    ]);
  });

  it('remembers the chart size once per change', async () => {
    const t = setup();
    await openReady(t);
    for (const maxPoints of [240, 240, 300])
      await t.session.handleMessage({ type: 'chart', requestId: maxPoints, request: { maxPoints, maxSensors: 12 } });
    assert.deepEqual(t.memoryWrites, [
      { maxPoints: 240, maxSensors: 12 },
      { maxPoints: 300, maxSensors: 12 },
    ]);
  });

  it('exports through the host and answers how many rows went where', async () => {
    const t = setup();
    await openReady(t);
    await t.session.handleMessage({ type: 'export', requestId: 9, format: 'csv', source: { kind: 'table', table: 'alerts' } });
    assert.deepEqual(t.exports, [{ format: 'csv', source: { kind: 'table', table: 'alerts', sort: undefined, filter: undefined } }]);
    assert.deepEqual(t.posted, [{ type: 'exported', requestId: 9, rows: 3, file: '' }]);
  });

  it('opens only files inside the folder shown', async () => {
    const t = setup();
    await openReady(t);
    for (const file of ['aggregates/part-0.csv', '../secret.csv', '/etc/passwd', 'aggregates/../../x'])
      await t.session.handleMessage({ type: 'openFile', file });
    assert.deepEqual(t.opened, [resolve(t.output, 'aggregates/part-0.csv')]);
  });

  it('turns a burst of watcher events into one refresh, and tells the view only when the files changed', async () => {
    const t = setup();
    await openReady(t);
    const store = t.stores[0];
    const before = store.refreshes;
    t.filesChanged();
    t.clock.advance(100);
    t.filesChanged();
    t.clock.advance(299);
    await settle();
    assert.equal(store.refreshes, before, 'nothing before the burst is over');
    t.clock.advance(1);
    await settle();
    assert.equal(store.refreshes, before + 1);
    assert.deepEqual(t.posted, [], 'no change, no message');

    store.changed = true;
    t.filesChanged();
    t.clock.advance(300);
    await settle();
    assert.deepEqual(t.posted, [{ type: 'summary', summary: summaryOf(t.output, 2), reason: 'filesChanged' }]);
  });

  it('answers the refresh button with the summary even when nothing changed', async () => {
    const t = setup();
    await openReady(t);
    await t.session.handleMessage({ type: 'refresh' });
    assert.deepEqual(t.posted, [{ type: 'summary', summary: summaryOf(t.output), reason: 'refresh' }]);
  });

  it('polls while the view is visible and stops when it is hidden', async () => {
    const t = setup();
    await openReady(t);
    const store = t.stores[0];
    const before = store.refreshes;
    for (let tick = 0; tick < 3; tick++) {
      t.clock.advance(1500);
      await settle();
    }
    assert.equal(store.refreshes, before + 3);

    t.view.visible = false;
    t.session.viewStateChanged();
    t.clock.advance(1500 * 3);
    await settle();
    assert.equal(store.refreshes, before + 3);
    assert.equal(t.clock.pending, 0, 'no poll and no release timer while the hidden view is open');
  });

  it('keeps the loaded data five minutes after the view closes: a reopening reuses it, then it is released', async () => {
    const t = setup();
    await openReady(t);
    t.session.viewClosed();
    t.clock.advance(4 * 60_000);
    const firstScreen = t.session.viewOpened(t.view);
    assert.ok(firstScreen, 'the loaded store gives the new panel its first screen');
    const initial = await firstScreen;
    assert.equal(initial?.page?.request, FIRST_PAGE);
    assert.equal(t.stores.length, 1, 'no second read of the folder');

    t.session.viewClosed();
    t.clock.advance(5 * 60_000 - 1);
    assert.equal(t.stores[0].closed, false);
    t.clock.advance(1);
    await settle();
    assert.equal(t.stores[0].closed, true);
    assert.ok(t.logs.includes('results: released the loaded data (the view has been closed for a while)'));
  });

  it('shows a chosen run in the open view and goes back to the output folder', async () => {
    const t = setup();
    await openReady(t);
    const run = resolve(t.output, 'runs', '2026-01-01T10-00');
    t.session.chooseRun(run);
    await settle();
    assert.equal(t.session.runShown(), run);
    assert.equal(t.session.folderShown(), run);
    assert.equal(t.stores[0].closed, true);
    assert.equal(t.stores[1].folder, run);
    assert.deepEqual(t.watched, [run]);
    assert.deepEqual(
      t.posted.filter((m) => m.type === 'init'),
      [{ type: 'init', summary: summaryOf(run), pageSize: PAGE_SIZE }],
    );

    t.session.chooseRun(t.output);
    assert.equal(t.session.runShown(), undefined);
    assert.equal(t.session.folderShown(), t.output);
  });

  it('reads into memory for a new view when the cache another window holds kept the background store from opening', async () => {
    let refused = true;
    const t = setup();
    const session = new ResultsSession({
      outputFolder: () => t.output,
      log: () => undefined,
      watchFolder: () => ({ dispose: () => undefined }),
      showIndexing: (work) => work,
      exportRows: async () => ({ rows: 0, file: '' }),
      openFile: async () => undefined,
      openStore: async (folder) => {
        if (refused) {
          refused = false;
          throw new CacheUnavailableError('another window holds the cache');
        }
        return new FakeStore(folder) as unknown as SessionStore;
      },
      clock: t.clock,
    });
    session.viewOpened(t.view);
    await session.handleMessage({ type: 'ready' });
    await settle();
    assert.deepEqual(
      t.posted.filter((m) => m.type === 'init'),
      [{ type: 'init', summary: summaryOf(t.output), pageSize: PAGE_SIZE }],
    );
  });

  it('leaves no timer behind once disposed', async () => {
    const t = setup();
    t.session.start();
    await openReady(t);
    t.session.dispose();
    await settle();
    assert.equal(t.clock.pending, 0);
    assert.deepEqual(t.watched, []);
    assert.equal(t.stores[0].closed, true);
  });
});
