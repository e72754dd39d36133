// A new results panel's first screen: the page and chart it starts with, computed while its webview loads, and the chart size remembered for it.
import { DEFAULT_SORT, type ChartRequest, type InitialData, type PageRequest } from './resultsProtocol';
import type { KeyValueMemory, SessionStore } from './resultsSessionHost';

export const PAGE_SIZE = 100;
/** The workspace-state key of the chart size the view asked for last (it depends on the panel's width). */
const CHART_SIZE_KEY = 'kafkaFlinkLab.results.chartSize';

/** The page a new panel starts with: aggregates, newest window first, no filter (the webview's defaults). */
export const FIRST_PAGE: PageRequest = { table: 'aggregates', offset: 0, limit: PAGE_SIZE, sort: DEFAULT_SORT.aggregates, filter: {} };

type ChartSize = Pick<ChartRequest, 'maxPoints' | 'maxSensors'>;

/**
 * What a new panel shows first: the summary, the first page in the default order and the chart at the size asked
 * for last time. Their answers also stay in the store's caches. A store kept from an earlier panel reads what
 * changed first (`reused`); a new one has just read everything. Undefined when `isCurrent` says the store was
 * replaced meanwhile, or on an error (the view's own requests report it).
 */
export async function firstScreen(
  store: Promise<SessionStore>,
  options: { reused: boolean; memory?: KeyValueMemory; log: (line: string) => void; isCurrent: () => boolean },
): Promise<InitialData | undefined> {
  const size = options.memory?.get<ChartSize>(CHART_SIZE_KEY);
  const chart: ChartRequest | undefined = size ? { maxPoints: size.maxPoints, maxSensors: size.maxSensors, filter: {} } : undefined;
  try {
    const s = await store;
    if (!options.isCurrent()) return undefined;
    const started = performance.now();
    if (options.reused) await s.refresh();
    const ready = await s.prefetch({ page: FIRST_PAGE, chart });
    options.log(`results: the first screen computed in ${Math.round(performance.now() - started)} ms`);
    return {
      summary: ready.summary,
      pageSize: PAGE_SIZE,
      page: ready.page && { request: FIRST_PAGE, result: ready.page },
      chart: ready.chart && chart && { request: chart, result: ready.chart },
    };
  } catch {
    return undefined;
  }
}

/** The chart size of the next new panel's first screen; written only when it changed (a live view asks often). */
export function rememberChartSize(memory: KeyValueMemory | undefined, { maxPoints, maxSensors }: ChartRequest): void {
  const last = memory?.get<ChartSize>(CHART_SIZE_KEY);
  if (memory && (last?.maxPoints !== maxPoints || last?.maxSensors !== maxSensors))
    void memory.update(CHART_SIZE_KEY, { maxPoints, maxSensors });
}
