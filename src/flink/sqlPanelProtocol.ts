// Messages between the Flink SQL results panel (webview-ui/sqlPanel.ts) and the extension (views/sqlPanel.ts).
import type { ResultView, RunSnapshot } from './sqlRun';

/** Extension → panel: the run as it stands (rows already limited), its statement, and which view shows. */
export interface PanelUpdate {
  type: 'update';
  statement: string;
  view: ResultView;
  limit: number;
  snapshot: RunSnapshot;
}

/** Panel → extension. */
export type PanelRequest =
  | { type: 'ready' }
  | { type: 'stop' }
  | { type: 'view'; view: ResultView }
  | { type: 'export'; format: 'csv' | 'json' }
  | { type: 'flinkView' }
  | { type: 'details' };
