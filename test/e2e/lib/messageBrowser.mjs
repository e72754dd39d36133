// The message browser's page as the journey reads it: its webview frame, its rows, a run and the page it waits for.
import { until } from './workbench.mjs';

/** The frame of the webview that holds `testId` (the browser and the results view can both be open), or none. */
export async function frameWith(page, testId) {
  const frames = page.locator('iframe.webview.ready');
  for (let i = (await frames.count()) - 1; i >= 0; i--) {
    const frame = frames.nth(i).contentFrame().locator('#active-frame').contentFrame();
    if (
      await frame
        .locator(`[data-testid="${testId}"]`)
        .count()
        .catch(() => 0)
    )
      return frame;
  }
  return undefined;
}

export const browserFrame = (page) => frameWith(page, 'mb-table');

/** The table's record rows as they read: partition, offset, time, key, and the whole value (the preview's title). */
export const rowsOf = (frame) =>
  frame.locator('[data-testid="mb-row"]').evaluateAll((trs) =>
    trs.map((tr) => ({
      partition: Number(tr.getAttribute('data-partition')),
      offset: Number(tr.getAttribute('data-offset')),
      time: tr.children[2]?.textContent ?? '',
      key: tr.querySelector('[data-testid="mb-key"]')?.textContent ?? '',
      value: tr.querySelector('[data-testid="mb-value"]')?.getAttribute('title') ?? '',
    })),
  );

/** The first problem the page shows (under the scan, the WHERE or the start), or "". */
export async function problemOf(frame) {
  for (const id of ['mb-scan-error', 'mb-where-error', 'mb-start-error']) {
    const text = await frame.locator(`[data-testid="${id}"]`).textContent();
    if (text) return text;
  }
  return '';
}

/** Waits for the page a run asked for (the state line says "Page N: …" or "Cancelled: …"), or a problem. */
export function pageShown(frame, what) {
  return until(
    async () => {
      const problem = await problemOf(frame);
      if (problem) return { problem };
      const state = (await frame.locator('[data-testid="mb-state"]').textContent()) ?? '';
      return /^(Page \d+|Cancelled):/.test(state) && { state, rows: await rowsOf(frame) };
    },
    {
      timeoutMs: 60_000,
      intervalMs: 300,
      message: async () => `${what}: no page (state: "${await frame.locator('[data-testid="mb-state"]').textContent()}")`,
    },
  );
}

/** Runs the form and waits for its page. */
export async function runAndWait(frame, what) {
  await frame.locator('[data-testid="mb-run"]').click();
  return pageShown(frame, what);
}

/** Ticks the wanted partitions ('all', or a list) and unticks the others. */
export async function choosePartitions(frame, wanted) {
  for (const box of await frame.locator('[data-testid^="mb-partition-"]').all()) {
    const p = Number((await box.getAttribute('data-testid')).replace('mb-partition-', ''));
    if (!Number.isNaN(p)) await box.setChecked(wanted === 'all' || wanted.includes(p));
  }
}

/** Fills the form: the start, the WHERE and the limit (the partitions stay as they are). */
export async function fillForm(frame, { start, where = '', limit }) {
  await frame.locator(`[data-testid="mb-start-${start}"]`).check();
  await frame.locator('[data-testid="mb-where"]').fill(where);
  if (limit !== undefined) await frame.locator('[data-testid="mb-limit"]').fill(String(limit));
}

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
    } else field += c;
  }
  if (field || row.length) endRow();
  return rows;
}

/**
 * The page a link opened the browser at: its note (`note`) on screen and the page that run drew ("Page N: …").
 * The link fills the note and starts the run together, so a page read then is the link's, not the last scan's.
 */
export function linkedPage(page, note, { timeoutMs, message }) {
  return until(
    async () => {
      const frame = await browserFrame(page);
      if (!frame) return undefined;
      // Short waits: a revealed webview's iframe can move in the page, and this frame may then be another view's.
      const read = (id) =>
        frame
          .locator(`[data-testid="${id}"]`)
          .textContent({ timeout: 2000 })
          .catch(() => '');
      if (!note.test((await read('mb-note')) ?? '')) return undefined;
      for (const id of ['mb-scan-error', 'mb-where-error', 'mb-start-error']) {
        const problem = await read(id);
        if (problem) return { frame, problem, rows: [] };
      }
      return /^Page \d+:/.test((await read('mb-state')) ?? '') && { frame, rows: await rowsOf(frame) };
    },
    { timeoutMs, intervalMs: 500, message },
  );
}
