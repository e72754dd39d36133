// What the results webview remembers across hide/show and live updates (VS Code's webview state, no retainContextWhenHidden), and its channel to the extension host.
import {
  DEFAULT_SORT,
  RESULT_TABLES,
  type ResultTable,
  type RowFilter,
  type SortSpec,
  type WebviewToHost,
} from '../src/results/resultsProtocol';
import type { RecordLinkMessage } from '../src/views/messageBrowserProtocol';

interface VsCodeApi {
  postMessage(message: WebviewToHost | RecordLinkMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

export type Tab = ResultTable | 'query';
export const TABS: Tab[] = [...RESULT_TABLES, 'query'];
export const TAB_LABELS: Record<Tab, string> = {
  aggregates: 'Aggregates',
  alerts: 'Alerts',
  dead_letter: 'Dead letters',
  query: 'Query result',
};

interface ViewState {
  tab: Tab;
  sorts: Partial<Record<ResultTable, SortSpec>>;
  offsets: Partial<Record<Tab, number>>;
  scroll: Partial<Record<Tab, number>>;
  filter: RowFilter;
  pageSize: number;
  sql: string;
  /** The statement whose result the query tab shows. */
  activeSql?: string;
  querySort?: SortSpec;
  hiddenSensors: string[];
}

const vscode = acquireVsCodeApi();
const defaults: ViewState = {
  tab: 'aggregates',
  sorts: {},
  offsets: {},
  scroll: {},
  filter: {},
  pageSize: 100,
  sql: 'SELECT sensor_id, count(*) AS windows, sum(event_count) AS events, round(avg(avg_temperature), 2) AS mean_temperature\nFROM aggregates\nGROUP BY sensor_id\nORDER BY sensor_id',
  hiddenSensors: [],
};
export const state: ViewState = { ...defaults, ...((vscode.getState() as Partial<ViewState> | undefined) ?? {}) };
export const save = () => vscode.setState(state);

export function post(message: WebviewToHost | RecordLinkMessage): void {
  vscode.postMessage(message);
}

export function currentSort(table: ResultTable): SortSpec {
  return state.sorts[table] ?? DEFAULT_SORT[table];
}

export function hasFilter(): boolean {
  const f = state.filter;
  return Boolean((f.sensors && f.sensors.length) || f.from || f.to || f.search);
}
