// The webview's requests to the extension host: their ids, which answer is the newest of its channel, the busy bar, and the timings the benchmark reads.
import type { RequestChannel, WebviewToHost } from '../src/results/resultsProtocol';
import { h } from './dom';
import { post } from './viewState';

export class Requests {
  readonly progress = h('vscode-progress-bar', { class: 'progress', 'aria-label': 'Loading' });
  private seq = 0;
  private readonly latest: Partial<Record<RequestChannel, number>> = {};
  private readonly pending = new Set<number>();
  private readonly sentAt = new Map<number, number>();
  private hostBusy = false;

  /** `timings` keeps the answers' timings as data attributes; `onTableTiming` shows a page's or query's in a tooltip. */
  constructor(
    private readonly timings: HTMLElement,
    private readonly onTableTiming: (title: string) => void,
  ) {}

  send(channel: RequestChannel, build: (requestId: number) => WebviewToHost): void {
    const requestId = ++this.seq;
    this.latest[channel] = requestId;
    this.pending.add(requestId);
    this.sentAt.set(requestId, performance.now());
    this.updateBusy();
    post(build(requestId));
  }

  /**
   * Where the time of an answer went: DuckDB, the extension host (DuckDB plus waiting for the store), and the
   * whole round trip until the frame that shows it. Kept on the app element (the benchmark reads it) and in the
   * table note's tooltip. The first answer of each channel also marks the time since the view started loading.
   */
  timed(channel: RequestChannel, requestId: number, dbMs: number, hostMs: number | undefined): void {
    const sent = this.sentAt.get(requestId);
    this.sentAt.delete(requestId);
    if (sent === undefined) return;
    requestAnimationFrame(() => {
      const now = performance.now();
      const data = this.timings.dataset;
      data[`${channel}Ms`] = String(Math.round(now - sent));
      data[`${channel}DbMs`] = String(Math.round(dbMs));
      if (hostMs !== undefined) data[`${channel}HostMs`] = String(Math.round(hostMs));
      data[`${channel}Seq`] = String(Number(data[`${channel}Seq`] ?? 0) + 1);
      if (data[`${channel}FirstAt`] === undefined) data[`${channel}FirstAt`] = String(Math.round(now));
      if (channel === 'page' || channel === 'query') {
        this.onTableTiming(
          `DuckDB ${Math.round(dbMs)} ms${hostMs === undefined ? '' : ` · extension host ${Math.round(hostMs)} ms`} · on screen after ${Math.round(now - sent)} ms`,
        );
      }
    });
  }

  /** True when this answer is the newest for its channel (older ones are dropped: the user moved on). */
  accept(channel: RequestChannel, requestId: number): boolean {
    this.pending.delete(requestId);
    this.updateBusy();
    if (this.latest[channel] === requestId) return true;
    this.sentAt.delete(requestId);
    return false;
  }

  /** An answer that is not timed. */
  forget(requestId: number): void {
    this.sentAt.delete(requestId);
  }

  setHostBusy(busy: boolean): void {
    this.hostBusy = busy;
    this.updateBusy();
  }

  updateBusy(): void {
    this.progress.hidden = this.pending.size === 0 && !this.hostBusy;
  }
}
