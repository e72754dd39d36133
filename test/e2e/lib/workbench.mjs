// What a user does in the VS Code workbench, as Playwright calls: the command palette, quick inputs, tree rows,
// terminals, the status bar, notifications and webviews. Selectors are the ones verified in code-server 4.139.1
// (VS Code 1.139); see ../../../README.md troubleshooting if an upgrade breaks them.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value; throws `message()` after `timeoutMs`, or at once when `check` throws an error marked `fatal`. */
export async function until(check, { timeoutMs, intervalMs = 500, message }) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      if (error?.fatal) throw error;
      last = error;
    }
    if (Date.now() >= deadline) {
      const why = typeof message === 'function' ? await message(last) : message;
      throw new Error(`${why} (waited ${Math.round(timeoutMs / 1000)} s)`);
    }
    await sleep(intervalMs);
  }
}

/** "Category: Title" of a contributed command, as the command palette shows it. */
export function paletteTitle(manifest, commandId) {
  const command = (manifest.contributes?.commands ?? []).find((c) => c.command === commandId);
  if (!command) throw new Error(`command ${commandId} is not contributed in package.json`);
  const title = typeof command.title === 'string' ? command.title : command.title?.value;
  const category = typeof command.category === 'string' ? command.category : command.category?.value;
  return category ? `${category}: ${title}` : title;
}

export const quickInput = (page) => page.locator('.quick-input-widget');

/** Waits until the extension has activated (it activates on startup): its status-bar item is on screen. */
export async function extensionActive(page, timeout = 60_000) {
  await page.locator('.statusbar-item[id$="kafkaFlinkLab.status"]').waitFor({ timeout });
}

/** Opens the command palette and types the command's title; returns the title and the palette's input. */
export async function typeInPalette(page, manifest, commandId) {
  const title = paletteTitle(manifest, commandId);
  // A palette that loses focus as it opens (a terminal or a view taking it) closes again: while it animates closed
  // it is inert and then hidden, and a fill would wait on it in vain. A user presses F1 again; so does this.
  const input = page.locator('.quick-input-widget input.input');
  const open = page.locator('.quick-input-widget:not(.quick-input-widget-closing) input.input');
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      await open.waitFor({ state: 'visible', timeout: 10_000 });
      await open.fill(`>${title}`, { timeout: 5_000 });
      return { title, input };
    } catch (error) {
      if (attempt >= 3) throw new Error(`the command palette did not stay open to type "${title}" (3 tries): ${error.message}`);
    }
  }
}

/** Opens the command palette, types the title and picks the row whose label is exactly that title. */
export async function runCommand(page, manifest, commandId) {
  const { title, input } = await typeInPalette(page, manifest, commandId);
  const rows = page.locator('.quick-input-list .monaco-list-row');
  const row = await until(
    async () => {
      const count = await rows.count();
      for (let i = 0; i < count; i++) {
        const label = (await rows.nth(i).getAttribute('aria-label')) ?? (await rows.nth(i).innerText());
        if (label.split(/, |\n/)[0].trim() === title) return rows.nth(i);
      }
      return undefined;
    },
    { timeoutMs: 10_000, intervalMs: 200, message: `"${title}" is not in the command palette` },
  );
  await row.click();
  // The palette closes (or turns into the command's own prompt) before anything else may be typed.
  await until(async () => !(await quickInput(page).isVisible()) || !(await input.inputValue()).startsWith('>'), {
    timeoutMs: 10_000,
    intervalMs: 100,
    message: `the command palette stayed open after choosing "${title}"`,
  });
  return title;
}

/** The quick input's visible prompt/placeholder/validation text, or undefined when it is closed. */
export async function quickInputText(page) {
  const widget = quickInput(page);
  if (!(await widget.isVisible())) return undefined;
  return (await widget.innerText()).trim() + ' ' + ((await widget.locator('input.input').getAttribute('placeholder')) ?? '');
}

/**
 * Answers whatever quick picks or input boxes a command opens, up to `max`, the way a user in a hurry would: the
 * item marked as the default (the configured value) when a pick has one, otherwise Enter (the focused item or
 * the pre-filled value). Returns what was chosen at each prompt.
 */
export async function acceptQuickInputs(page, { max = 6, settleMs = 2500 } = {}) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    const open = await until(async () => (await quickInput(page).isVisible()) || undefined, {
      timeoutMs: settleMs,
      intervalMs: 150,
      message: '',
    }).catch(() => false);
    if (!open) return seen;
    const marked = page
      .locator('.quick-input-list .monaco-list-row')
      .filter({ hasText: /default/i })
      .first();
    if (await marked.count()) {
      seen.push((await marked.innerText()).replace(/\s+/g, ' ').trim().slice(0, 60));
      await marked.click();
    } else {
      const focused = page.locator('.quick-input-list .monaco-list-row.focused').first();
      seen.push(
        ((await focused.count())
          ? await focused.innerText()
          : (await page.locator('.quick-input-widget input.input').inputValue()) || 'Enter'
        )
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 60),
      );
      await page.keyboard.press('Enter');
    }
    await sleep(400);
  }
  return seen;
}

/** A view pane (e.g. "Kafka", "Pipeline") of the current side bar, by its header title. */
export function viewPane(page, title) {
  return page
    .locator('.pane')
    .filter({ has: page.locator('.pane-header', { has: page.locator('h3.title', { hasText: new RegExp(`^${title}$`, 'i') }) }) });
}

/**
 * The tree row whose label is `label`. A custom tree row's aria-label is "label description" (plus ", has actions"
 * when it has inline actions), while its text runs label and description together, so the label is matched there.
 */
export function treeRow(scope, label) {
  const q = label.replace(/["\\]/g, '\\$&');
  return scope
    .locator(`.monaco-list-row[role="treeitem"][aria-label^="${q} "], .monaco-list-row[role="treeitem"][aria-label="${q}"]`)
    .first();
}

/** "label description" of a row, without the ", has actions" suffix. */
export async function rowText(row) {
  return ((await row.getAttribute('aria-label')) ?? '')
    .replace(/, has actions$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The rendered rows of a tree in visual order: { index, level, expanded, text }. */
export async function treeSnapshot(scope) {
  const rows = await scope.locator('.monaco-list-row[role="treeitem"]').evaluateAll((elements) =>
    elements.map((r) => ({
      index: Number(r.getAttribute('data-index')),
      level: Number(r.getAttribute('aria-level')),
      expanded: r.getAttribute('aria-expanded'),
      text: (r.getAttribute('aria-label') ?? '')
        .replace(/, has actions$/, '')
        .replace(/\s+/g, ' ')
        .trim(),
    })),
  );
  return rows.sort((a, b) => a.index - b.index);
}

/** The direct children (as rendered) of the row whose label is `label`. */
export function childrenIn(snapshot, label) {
  const at = snapshot.findIndex((r) => r.text === label || r.text.startsWith(`${label} `));
  if (at < 0) return [];
  const children = [];
  for (const row of snapshot.slice(at + 1)) {
    if (row.level <= snapshot[at].level) break;
    if (row.level === snapshot[at].level + 1) children.push(row);
  }
  return children;
}

export async function expandRow(row) {
  if ((await row.getAttribute('aria-expanded')) === 'false') {
    const twistie = row.locator('.monaco-tl-twistie');
    if (await twistie.count()) await twistie.click();
    else await row.click();
  }
}

/** The terminal tab of a named terminal (tabs are always shown; see the run's user settings). */
export function terminalTab(page, name) {
  return page.locator('.terminal-tabs-entry').filter({ hasText: name });
}

/** The text of a named terminal: selects its tab and reads the active xterm's rows. */
export async function terminalText(page, name) {
  const tab = terminalTab(page, name).first();
  await tab.click();
  const rows = page.locator('.terminal-wrapper.active .xterm-rows');
  await rows.first().waitFor({ timeout: 5000 });
  return (await rows.first().innerText()).replace(/\u00a0/g, ' ');
}

export async function statusBarTexts(page) {
  return (await page.locator('.statusbar-item').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean);
}

/** Texts of the notification toasts on screen (and, if the center is open, its entries). */
export async function notificationTexts(page) {
  return (await page.locator('.notification-toast, .notifications-center .notification-list-item').allInnerTexts()).map((t) =>
    t.replace(/\s+/g, ' ').trim(),
  );
}

/** The inner frame of the newest ready webview (VS Code nests the content in iframe#active-frame). */
export function webviewFrame(page) {
  return page.locator('iframe.webview.ready').last().contentFrame().locator('#active-frame').contentFrame();
}

/**
 * Right-clicks a tree row and chooses the context-menu entry whose label matches `label` (a string or RegExp).
 * The tree re-renders on its auto-refresh and reuses row elements, so the row that got the right-click (the
 * focused one) is checked to be the one meant before the entry is chosen.
 */
export async function contextMenu(page, row, label) {
  const meant = await rowText(row);
  const items = page.locator('.monaco-menu .action-item:not(.disabled) .action-label:visible');
  const match = typeof label === 'string' ? (t) => t.trim() === label : (t) => label.test(t.trim());
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await row.click({ button: 'right' });
    // The focused row of the row's own tree: another view keeps a focused row of its own.
    const tree = row.locator('xpath=ancestor::div[contains(concat(" ", normalize-space(@class), " "), " monaco-list ")][1]');
    const focused = await rowText(tree.locator('.monaco-list-row[role="treeitem"].focused').first()).catch(() => '');
    // The first three words name the row ("Source kafka_src →", not the watermark row "Source kafka_src 12:00:05");
    // the counts after them change with every refresh.
    const head = (text) => text.split(' ').slice(0, 3).join(' ');
    if (head(focused) !== head(meant)) {
      if (attempt >= 3) throw new Error(`the right-click landed on "${focused}" instead of "${meant}"`);
      continue;
    }
    const item = await until(
      async () => {
        const texts = await items.allInnerTexts();
        const at = texts.findIndex(match);
        return at >= 0 ? items.nth(at) : undefined;
      },
      {
        timeoutMs: 5000,
        intervalMs: 150,
        message: async () =>
          `no "${label}" in the context menu of "${meant}" (it shows: ${
            (await items.allInnerTexts())
              .map((t) => t.trim())
              .filter(Boolean)
              .join(' | ') || 'nothing'
          })`,
      },
    );
    await item.hover();
    await sleep(150);
    await item.click();
    // A menu that is still open did not take the click: choose the highlighted entry with the keyboard.
    await sleep(300);
    if (await page.locator('.monaco-menu .action-label:visible').count()) await page.keyboard.press('Enter');
    return;
  }
}

/** The title of the quick input on screen ("" when it has none), or undefined when it is closed. */
export async function quickInputTitle(page) {
  if (!(await quickInput(page).isVisible())) return undefined;
  const title = page.locator('.quick-input-widget .quick-input-title');
  return (await title.count()) ? (await title.first().innerText()).replace(/\s+/g, ' ').trim() : '';
}

export const titled = (title) =>
  typeof title === 'function' ? title : typeof title === 'string' ? (t) => t === title : (t) => title.test(t);

/**
 * Waits for the prompt whose title matches `title` (a string, RegExp or predicate); returns the title. A command's prompts follow each other in the same widget,
 * and the previous one stays on screen until the extension host has checked its answer, so "a quick input is
 * visible" is not enough to know which prompt an answer would go to.
 */
export async function waitForPrompt(page, title, what = 'prompt') {
  const ok = titled(title);
  return until(
    async () => {
      const t = await quickInputTitle(page);
      return t !== undefined && ok(t) ? t : undefined;
    },
    {
      timeoutMs: 20_000,
      intervalMs: 150,
      message: async () =>
        `no ${what} titled ${title} opened (on screen: ${(await quickInputText(page).catch(() => undefined)) ?? 'no quick input'})`,
    },
  );
}

/** Waits until the prompt titled `title` has gone (accepted), so the next answer goes to the next prompt. */
async function waitForPromptGone(page, title) {
  const ok = titled(title);
  await until(
    async () => {
      const t = await quickInputTitle(page);
      return t === undefined || !ok(t);
    },
    {
      timeoutMs: 20_000,
      intervalMs: 150,
      message: async () => `the prompt titled ${title} did not take the answer (on screen: ${await quickInputText(page).catch(() => '')})`,
    },
  );
}

/** Waits for the input box titled `title`, types `text` into it and presses Enter; returns once it has gone. */
export async function answerInput(page, title, text) {
  await waitForPrompt(page, title, 'input box');
  await page.locator('.quick-input-widget input.input').fill(text);
  await sleep(200); // validation runs on change
  await page.keyboard.press('Enter');
  await waitForPromptGone(page, title);
}

/** Waits for the quick pick titled `title` and clicks the row whose text matches `pattern`; returns the row's text. */
export async function pickItem(page, title, pattern) {
  await waitForPrompt(page, title, 'quick pick');
  const rows = page.locator('.quick-input-list .monaco-list-row:visible');
  const row = await until(
    async () => {
      const texts = await rows.allInnerTexts();
      const at = texts.findIndex((t) => pattern.test(t.replace(/\s+/g, ' ')));
      return at >= 0 ? { row: rows.nth(at), text: texts[at].replace(/\s+/g, ' ').trim() } : undefined;
    },
    {
      timeoutMs: 10_000,
      intervalMs: 150,
      message: async () =>
        `no item matching ${pattern} in the pick titled ${title} (items: ${(await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim()).join(' | ') || 'none'})`,
    },
  );
  await row.row.click();
  await waitForPromptGone(page, title);
  return row.text;
}

/** Clicks the button `label` of the modal dialog on screen; returns the dialog's text. */
export async function answerDialog(page, label) {
  const box = page.locator('.monaco-dialog-box');
  await box.first().waitFor({ state: 'visible', timeout: 10_000 });
  const text = (await box.first().innerText()).replace(/\s+/g, ' ').trim();
  await box
    .first()
    .locator('.monaco-button', { hasText: new RegExp(`^${label}$`) })
    .first()
    .click();
  await box.first().waitFor({ state: 'hidden', timeout: 10_000 });
  return text;
}

/** The rendered text of the active editor (the lines on screen). */
export async function activeEditorText(page) {
  const lines = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  await lines.waitFor({ timeout: 10_000 });
  return (await lines.innerText()).replace(/\u00a0/g, ' ');
}

/**
 * The lines of the extension's output channel ("Kafka Flink Lab") as code-server writes them to its log folder:
 * the newest such file under `logsDir` (the user-data folder's logs/), or none yet.
 */
export function extensionLogLines(logsDir) {
  let newest;
  for (const entry of readdirSync(logsDir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name !== 'Kafka Flink Lab.log') continue;
    const file = join(entry.parentPath, entry.name);
    const mtime = statSync(file).mtimeMs;
    if (!newest || mtime > newest.mtime) newest = { file, mtime };
  }
  return newest ? readFileSync(newest.file, 'utf8').split('\n') : [];
}
