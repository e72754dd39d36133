// The first screen the extension host wrote into the page (a JSON data block, read as text): each of its answers is used once.
import { INITIAL_DATA_ID, type InitialData } from '../src/results/resultsProtocol';

function readInitialData(): InitialData | undefined {
  const block = document.getElementById(INITIAL_DATA_ID);
  if (!block?.textContent) return undefined;
  try {
    return JSON.parse(block.textContent) as InitialData;
  } catch {
    return undefined;
  } finally {
    block.remove();
  }
}
let initialData = readInitialData();

/** The page's first screen, until the view has started. */
export function initialScreen(): InitialData | undefined {
  return initialData;
}

/** The view has started: every later answer comes from the extension host. */
export function dropInitialScreen(): void {
  initialData = undefined;
}

/** The first screen's answer of a channel, handed out once: later requests always go to the extension host. */
export function takeInitial<K extends 'page' | 'chart'>(channel: K): InitialData[K] {
  const answer = initialData?.[channel];
  if (initialData) initialData[channel] = undefined;
  return answer;
}

/** Marks an answer taken from the page's first screen (no round trip), as `Requests.timed` marks the others. */
export function markInitial(timings: HTMLElement, channel: 'init' | 'page' | 'chart'): void {
  requestAnimationFrame(() => {
    const data = timings.dataset;
    const at = String(Math.round(performance.now()));
    data.initialData = [data.initialData, channel].filter(Boolean).join(',');
    if (channel === 'init') {
      data.initAt ??= at;
      return;
    }
    data[`${channel}FirstAt`] ??= at;
    data[`${channel}Ms`] = '0';
    data[`${channel}DbMs`] = '0';
    data[`${channel}HostMs`] = '0';
  });
}
