// The message browser's time histogram: scanned and matching records per time bucket, as SVG; a drag across it picks
// a time range. Labels and tooltips go in as text.
import { isoTime } from '../src/views/messageBrowserModel';
import type { MergedHistogram } from '../src/views/messageBrowserProtocol';
import { clear, svg } from './dom';
import { formatCount } from './format';

const HEIGHT = 90;
const MARGIN = { left: 8, right: 8, top: 6, bottom: 18 };

interface Frame {
  width: number;
  from: number;
  to: number;
  x: (t: number) => number;
  t: (x: number) => number;
}

export class TimeHistogramView {
  readonly element = svg('svg', { class: 'histogram', 'data-testid': 'mb-histogram', role: 'img', 'aria-label': 'Records over time' });
  private data: MergedHistogram | undefined;
  private drag: { x0: number; rect: SVGRectElement } | undefined;

  constructor(private readonly options: { canDrag: () => boolean; onRange: (sinceMs: number, untilMs: number) => void }) {
    this.element.addEventListener('pointerdown', (event) => this.pointerDown(event));
    this.element.addEventListener('pointermove', (event) => this.pointerMove(event));
    this.element.addEventListener('pointerup', (event) => this.pointerUp(event));
    new ResizeObserver(() => this.draw()).observe(this.element);
  }

  /** The buckets of every page of the scan so far, or none (a new scan). */
  show(data: MergedHistogram | undefined): void {
    this.data = data;
    this.draw();
  }

  private frame(): Frame | undefined {
    const hist = this.data;
    if (!hist || hist.buckets.length === 0) return undefined;
    const width = Math.max(200, this.element.clientWidth || 600);
    const from = hist.buckets[0].startMs;
    const to = hist.buckets[hist.buckets.length - 1].startMs + hist.widthMs;
    const plot = width - MARGIN.left - MARGIN.right;
    return {
      width,
      from,
      to,
      x: (t) => MARGIN.left + ((t - from) / Math.max(1, to - from)) * plot,
      t: (x) => from + ((Math.min(Math.max(x, MARGIN.left), width - MARGIN.right) - MARGIN.left) / plot) * (to - from),
    };
  }

  private draw(): void {
    const histogram = this.element;
    clear(histogram);
    const frame = this.frame();
    const hist = this.data;
    histogram.setAttribute('height', String(HEIGHT));
    if (!frame || !hist) {
      histogram.append(svg('text', { class: 'tick', x: 8, y: 40 }, 'Nothing scanned yet.'));
      return;
    }
    histogram.setAttribute('viewBox', `0 0 ${frame.width} ${HEIGHT}`);
    const max = Math.max(1, ...hist.buckets.map((b) => b.all));
    const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    const barWidth = Math.max(1, frame.x(frame.from + hist.widthMs) - frame.x(frame.from) - 1);
    for (const b of hist.buckets) {
      const x = frame.x(b.startMs);
      const hAll = (b.all / max) * plotHeight;
      const hMatched = (b.matched / max) * plotHeight;
      const tip = `${isoTime(b.startMs)}: ${formatCount(b.all)} scanned, ${formatCount(b.matched)} matching`;
      histogram.append(
        svg('rect', { class: 'all', x, y: MARGIN.top + plotHeight - hAll, width: barWidth, height: hAll }, svg('title', {}, tip)),
        svg(
          'rect',
          { class: 'matched', x, y: MARGIN.top + plotHeight - hMatched, width: barWidth, height: hMatched },
          svg('title', {}, tip),
        ),
      );
    }
    const label = (t: number) => new Date(t).toISOString().slice(11, 19);
    histogram.append(
      svg('text', { class: 'tick', x: MARGIN.left, y: HEIGHT - 4 }, `${label(frame.from)} UTC`),
      svg('text', { class: 'tick', x: frame.width - MARGIN.right, y: HEIGHT - 4, 'text-anchor': 'end' }, `${label(frame.to)} UTC`),
    );
  }

  private svgX(event: PointerEvent): number {
    const box = this.element.getBoundingClientRect();
    const frame = this.frame();
    return frame ? ((event.clientX - box.left) / Math.max(1, box.width)) * frame.width : 0;
  }

  private pointerDown(event: PointerEvent): void {
    if (!this.frame() || !this.options.canDrag()) return;
    const x0 = this.svgX(event);
    const rect = svg('rect', { class: 'selection', x: x0, y: 0, width: 0, height: HEIGHT });
    this.element.append(rect);
    this.drag = { x0, rect };
    this.element.setPointerCapture(event.pointerId);
  }

  private pointerMove(event: PointerEvent): void {
    if (!this.drag) return;
    const x = this.svgX(event);
    this.drag.rect.setAttribute('x', String(Math.min(x, this.drag.x0)));
    this.drag.rect.setAttribute('width', String(Math.abs(x - this.drag.x0)));
  }

  private pointerUp(event: PointerEvent): void {
    const frame = this.frame();
    if (!this.drag || !frame) return;
    const x = this.svgX(event);
    const x0 = this.drag.x0;
    this.drag = undefined;
    // A click, not a drag: nothing narrows.
    if (Math.abs(x - x0) < 3) {
      this.draw();
      return;
    }
    this.options.onRange(Math.floor(frame.t(Math.min(x, x0))), Math.ceil(frame.t(Math.max(x, x0))));
  }
}
