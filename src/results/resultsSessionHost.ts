// What the results session needs from its host (the webview panel passes VS Code's side of it): the view, settings, watcher, dialogs, clock.
import type { ExportFormat, ExportSource, HostToWebview } from './resultsProtocol';
import type { ResultsStore, ResultsStoreOptions } from './resultsStore';

/** What the session uses of a store (the tests pass a fake one). */
export type SessionStore = Pick<ResultsStore, 'refresh' | 'summary' | 'prefetch' | 'page' | 'chart' | 'query' | 'exportRows' | 'close'>;

/** The open webview, as the session sees it. */
export interface ResultsView {
  readonly visible: boolean;
  post(message: HostToWebview): void;
}

/** A key-value store kept across sessions (VS Code's workspace state). */
export interface KeyValueMemory {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** Timers and the wall clock (the tests pass their own). */
export interface Clock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  now(): number;
}

export const systemClock: Clock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout | undefined),
  now: () => Date.now(),
};

/** What the session needs from the editor: the settings it reads and the few things only VS Code can do. */
export interface ResultsSessionHost {
  outputFolder: () => string;
  /** Where the loaded rows are kept between sessions (the extension's workspace storage); none: memory only. */
  cacheDir?: string;
  /** Remembers the chart size the view asked for last, across sessions (the workspace state). */
  memory?: KeyValueMemory;
  /** Whether to keep the cache file up to date while the view is closed (the results.indexInBackground setting). */
  indexInBackground?: () => boolean;
  log: (line: string) => void;
  /** Calls `onChange` when a file below `folder` is created, changed or deleted; throws when it cannot watch. */
  watchFolder: (folder: string, onChange: () => void) => { dispose(): void };
  /** Shows a first background read of a folder (it can take seconds) while `work` runs. */
  showIndexing: (work: Promise<unknown>) => PromiseLike<unknown>;
  /** Asks where to save the rows and writes them there; `file` is empty when the user cancelled. */
  exportRows: (store: SessionStore, format: ExportFormat, source: ExportSource) => Promise<{ rows: number; file: string }>;
  /** Opens `path` (a file inside the folder shown; `file` is how the webview named it) in an editor. */
  openFile: (path: string, file: string) => Promise<void>;
  openStore?: (folder: string, options: ResultsStoreOptions) => Promise<SessionStore>;
  clock?: Clock;
}
