// The results view's SVG charts: temperature per sensor and events per window, coloured by the theme.
import type { ChartResult, TemperaturePoint } from '../src/results/resultsProtocol';
import { clear, h, svg } from './dom';
import { formatClock, formatCount, formatNumber, formatTime } from './format';

/**
 * Hand-drawn SVG charts. Colours come from the theme through CSS classes (results.css maps `s0`…`s5` to
 * --vscode-charts-*), and every sixth sensor switches to a dashed line, so twelve lines stay apart in light,
 * dark and high-contrast themes without relying on colour alone.
 */

const PALETTE = 6;
const HEIGHT = 220;
const EVENTS_HEIGHT = 130;
const MARGIN = { left: 48, right: 14, top: 12, bottom: 26 };
const MAX_RINGS = 120;

export function seriesClass(index: number): string {
  return `s${index % PALETTE} d${Math.floor(index / PALETTE) % 2}`;
}

function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function valueTicks(min: number, max: number, count: number): number[] {
  if (min === max) return [min];
  const step = niceStep(max - min, count);
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map(
  (s) => s * 1000,
);

function timeTicks(from: number, to: number, count: number): number[] {
  const step = TIME_STEPS.find((s) => (to - from) / s <= count) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return ticks;
}

function bucketLabel(result: ChartResult): string {
  const seconds = result.bucketMs / 1000;
  const windows = Math.round(result.bucketMs / Math.max(1, result.windowMs));
  const size = seconds >= 60 ? `${formatNumber(seconds / 60)} min` : `${formatNumber(seconds)} s`;
  return windows > 1 ? `each point merges ${formatCount(windows)} windows (${size})` : `one point per ${size} window`;
}

interface Frame {
  width: number;
  height: number;
  x: (t: number) => number;
  y: (v: number) => number;
  plotWidth: number;
}

function axes(root: SVGSVGElement, frame: Frame, from: number, to: number, yTicks: number[], yLabel: (v: number) => string): void {
  const axis = svg('g', { class: 'axis' });
  const withDate = to - from > 36 * 3600 * 1000;
  for (const v of yTicks) {
    const y = frame.y(v);
    axis.append(svg('line', { class: 'grid', x1: MARGIN.left, x2: frame.width - MARGIN.right, y1: y, y2: y }));
    axis.append(svg('text', { class: 'tick', x: MARGIN.left - 6, y: y + 4, 'text-anchor': 'end' }, yLabel(v)));
  }
  for (const t of timeTicks(from, to, Math.max(2, Math.floor(frame.plotWidth / 110)))) {
    const x = frame.x(t);
    const anchor = x > frame.width - MARGIN.right - 24 ? 'end' : x < MARGIN.left + 24 ? 'start' : 'middle';
    axis.append(svg('line', { class: 'tick-mark', x1: x, x2: x, y1: frame.height - MARGIN.bottom, y2: frame.height - MARGIN.bottom + 4 }));
    axis.append(svg('text', { class: 'tick', x, y: frame.height - 8, 'text-anchor': anchor }, formatClock(t, withDate)));
  }
  axis.append(
    svg('line', {
      class: 'baseline',
      x1: MARGIN.left,
      x2: frame.width - MARGIN.right,
      y1: frame.height - MARGIN.bottom,
      y2: frame.height - MARGIN.bottom,
    }),
  );
  root.append(axis);
}

function emptyChart(root: SVGSVGElement, width: number, height: number, text: string): void {
  root.append(svg('text', { class: 'empty', x: width / 2, y: height / 2, 'text-anchor': 'middle' }, text));
}

/** Mean temperature per window, one line per sensor, anomalies marked; a legend toggles the lines. */
export class TemperatureChart {
  readonly element: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly note: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly svgRoot: SVGSVGElement;
  private result?: ChartResult;
  private hidden = new Set<string>();

  constructor(private readonly onToggle: (hidden: string[]) => void) {
    this.legend = h('div', {
      class: 'legend',
      role: 'group',
      'aria-label': 'Sensors: click to hide or show a line, double-click to show only that sensor',
    });
    this.readout = h('div', { class: 'readout', 'aria-hidden': 'true' });
    this.note = h('div', { class: 'chart-note' });
    this.svgRoot = svg('svg', {
      class: 'chart',
      'data-testid': 'results-chart',
      role: 'img',
      'aria-label': 'Mean temperature per window and sensor',
      height: HEIGHT,
    });
    this.element = h(
      'section',
      { class: 'chart-card', 'aria-labelledby': 'temperature-title' },
      h('div', { class: 'chart-head' }, h('h3', { id: 'temperature-title' }, 'Mean temperature per window (°C)'), this.readout),
      this.svgRoot,
      this.legend,
      this.note,
    );
    this.svgRoot.addEventListener('mousemove', (e) => this.hover(e));
    this.svgRoot.addEventListener('mouseleave', () => this.clearHover());
  }

  update(result: ChartResult, hidden: string[]): void {
    this.result = result;
    this.hidden = new Set(hidden);
    this.draw();
  }

  draw(): void {
    const result = this.result;
    const width = Math.max(320, this.element.clientWidth || 640);
    clear(this.svgRoot);
    this.svgRoot.setAttribute('width', String(width));
    this.svgRoot.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
    this.drawLegend();
    if (!result || result.series.length === 0 || result.from === null || result.to === null) {
      emptyChart(this.svgRoot, width, HEIGHT, 'No aggregate rows to chart yet');
      this.note.textContent = '';
      return;
    }
    const visible = result.series.map((s, i) => ({ ...s, index: i })).filter((s) => !this.hidden.has(s.sensor));
    const values = visible.flatMap((s) => s.points.map((p) => p[1]).filter((v): v is number => v !== null));
    let min = values.length ? Math.min(...values) : 0;
    let max = values.length ? Math.max(...values) : 1;
    const pad = (max - min || Math.abs(max) || 1) * 0.08;
    min -= pad;
    max += pad;
    const plotWidth = width - MARGIN.left - MARGIN.right;
    const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    const from = result.from;
    const to = Math.max(result.to, from + 1);
    const frame: Frame = {
      width,
      height: HEIGHT,
      plotWidth,
      x: (t) => MARGIN.left + ((t - from) / (to - from)) * plotWidth,
      y: (v) => MARGIN.top + (1 - (v - min) / (max - min)) * plotHeight,
    };
    axes(this.svgRoot, frame, from, to, valueTicks(min, max, 5), (v) => formatNumber(Number(v.toFixed(2))));

    const lines = svg('g', { class: 'lines' });
    const markers = svg('g', { class: 'markers' });
    const half = result.bucketMs / 2; // a point sits in the middle of its window (or bucket)
    // Rings only while they stay readable; when most windows have anomalies the events chart shows their count.
    const marked = visible.reduce((n, s) => n + s.points.filter((p) => p[2] > 0 && p[1] !== null).length, 0);
    const ringAnomalies = marked <= MAX_RINGS;
    for (const series of visible) {
      const { d, lone } = linePath(series.points, frame, result.bucketMs);
      lines.append(svg('path', { class: `series ${seriesClass(series.index)}`, d, 'data-sensor': series.sensor }));
      // A window with no neighbour on either side would be invisible as a line: draw it as a dot.
      for (const [x, y] of lone) lines.append(svg('circle', { class: `dot ${seriesClass(series.index)}`, cx: x, cy: y, r: 2.5 }));
      for (const p of series.points) {
        if (!ringAnomalies || p[2] <= 0 || p[1] === null) continue;
        const x = frame.x(p[0] + half);
        const y = frame.y(p[1]);
        // A ring around the point: the line stays readable even when most windows have an anomaly.
        const marker = svg('circle', { class: 'anomaly-ring', cx: x.toFixed(1), cy: y.toFixed(1), r: 4, 'data-sensor': series.sensor });
        marker.append(
          svg(
            'title',
            {},
            `${series.sensor} · ${formatTime(p[0])} · mean ${formatNumber(p[1])} °C${p[3] !== null ? ` · max ${formatNumber(p[3])} °C` : ''} · ${formatCount(p[2])} anomal${p[2] === 1 ? 'y' : 'ies'}`,
          ),
        );
        markers.append(marker);
      }
    }
    this.svgRoot.append(lines, markers, svg('line', { class: 'guide', x1: -10, x2: -10, y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom }));
    const shown =
      result.series.length < result.totalSensors
        ? `Showing ${result.series.length} of ${formatCount(result.totalSensors)} sensors: choose sensors in the filter to chart others. `
        : '';
    const anomalies = ringAnomalies
      ? marked > 0
        ? '○ rings mark windows with anomalies (hover for details).'
        : 'no anomalies in view.'
      : `${formatCount(marked)} points have anomalies, too many to ring: choose fewer sensors, or see anomalies per window on the right.`;
    const clipped =
      result.earlierFrom !== undefined
        ? `Charting from ${formatTime(result.from)} UTC, after a long pause; earlier windows start at ${formatTime(result.earlierFrom)}: set From to include them. `
        : '';
    this.note.textContent = `${clipped}${shown}${bucketLabel(result)}; ${anomalies}`;
  }

  private drawLegend(): void {
    clear(this.legend);
    for (const [index, series] of (this.result?.series ?? []).entries()) {
      const on = !this.hidden.has(series.sensor);
      const anomalies = series.points.reduce((sum, p) => sum + p[2], 0);
      const button = h(
        'button',
        {
          class: 'legend-item',
          type: 'button',
          'aria-pressed': String(on),
          'data-sensor': series.sensor,
          title: `${series.sensor}: ${formatCount(anomalies)} anomalies in view. Click to ${on ? 'hide' : 'show'}, double-click to show only this sensor.`,
        },
        h('span', { class: `swatch ${seriesClass(index)}`, 'aria-hidden': 'true' }),
        series.sensor,
      );
      button.addEventListener('click', () => {
        if (this.hidden.has(series.sensor)) this.hidden.delete(series.sensor);
        else this.hidden.add(series.sensor);
        this.onToggle([...this.hidden]);
        this.draw();
      });
      button.addEventListener('dblclick', () => {
        this.hidden = new Set((this.result?.series ?? []).map((s) => s.sensor).filter((s) => s !== series.sensor));
        this.onToggle([...this.hidden]);
        this.draw();
      });
      this.legend.append(button);
    }
  }

  private hover(event: MouseEvent): void {
    const result = this.result;
    if (!result || result.from === null || result.to === null || result.series.length === 0) return;
    const rect = this.svgRoot.getBoundingClientRect();
    const width = rect.width;
    const plotWidth = width - MARGIN.left - MARGIN.right;
    const fraction = (event.clientX - rect.left - MARGIN.left) / plotWidth;
    if (fraction < 0 || fraction > 1) return this.clearHover();
    const t = result.from + fraction * (result.to - result.from) - result.bucketMs / 2;
    const bucket = result.from + Math.round((t - result.from) / result.bucketMs) * result.bucketMs;
    const parts: string[] = [];
    for (const series of result.series) {
      if (this.hidden.has(series.sensor)) continue;
      const point = series.points.find((p) => p[0] === bucket);
      if (point && point[1] !== null)
        parts.push(
          `${series.sensor} ${formatNumber(point[1])}${point[2] > 0 ? ` (${point[2]} anomal${point[2] === 1 ? 'y' : 'ies'})` : ''}`,
        );
    }
    const x = MARGIN.left + ((bucket + result.bucketMs / 2 - result.from) / (result.to - result.from)) * plotWidth;
    const guide = this.svgRoot.querySelector('.guide');
    guide?.setAttribute('x1', String(x));
    guide?.setAttribute('x2', String(x));
    this.readout.textContent = parts.length
      ? `${formatTime(bucket)} · ${parts.slice(0, 6).join(' · ')}${parts.length > 6 ? ' …' : ''}`
      : '';
  }

  private clearHover(): void {
    const guide = this.svgRoot.querySelector('.guide');
    guide?.setAttribute('x1', '-10');
    guide?.setAttribute('x2', '-10');
    this.readout.textContent = '';
  }
}

function linePath(points: TemperaturePoint[], frame: Frame, bucketMs: number): { d: string; lone: [string, string][] } {
  let d = '';
  const lone: [string, string][] = [];
  let previous: number | undefined;
  let run: [string, string][] = [];
  const endRun = () => {
    if (run.length === 1) lone.push(run[0]);
    run = [];
  };
  for (const [t, mean] of points) {
    if (mean === null) {
      previous = undefined;
      continue;
    }
    const x = frame.x(t + bucketMs / 2).toFixed(1);
    const y = frame.y(mean).toFixed(1);
    if (previous === undefined || t - previous > bucketMs * 1.5) {
      endRun();
      d += `M${x},${y}`;
    } else d += `L${x},${y}`;
    run.push([x, y]);
    previous = t;
  }
  endRun();
  return { d, lone };
}

/** Events per window (all sensors in the filter), as bars; buckets with anomalies are marked. */
export class EventsChart {
  readonly element: HTMLElement;
  private readonly svgRoot: SVGSVGElement;
  private result?: ChartResult;

  constructor() {
    this.svgRoot = svg('svg', {
      class: 'chart',
      'data-testid': 'results-events-chart',
      role: 'img',
      'aria-label': 'Events per window',
      height: EVENTS_HEIGHT,
    });
    this.element = h(
      'section',
      { class: 'chart-card', 'aria-labelledby': 'events-title' },
      h('div', { class: 'chart-head' }, h('h3', { id: 'events-title' }, 'Events per window')),
      this.svgRoot,
    );
  }

  update(result: ChartResult): void {
    this.result = result;
    this.draw();
  }

  draw(): void {
    const result = this.result;
    const width = Math.max(320, this.element.clientWidth || 640);
    clear(this.svgRoot);
    this.svgRoot.setAttribute('width', String(width));
    this.svgRoot.setAttribute('viewBox', `0 0 ${width} ${EVENTS_HEIGHT}`);
    if (!result || result.events.length === 0 || result.from === null || result.to === null) {
      emptyChart(this.svgRoot, width, EVENTS_HEIGHT, 'No windows yet');
      return;
    }
    const max = Math.max(1, ...result.events.map((e) => e[1])) * 1.1;
    const plotWidth = width - MARGIN.left - MARGIN.right;
    const plotHeight = EVENTS_HEIGHT - MARGIN.top - MARGIN.bottom;
    const from = result.from;
    const to = Math.max(result.to, from + 1);
    const frame: Frame = {
      width,
      height: EVENTS_HEIGHT,
      plotWidth,
      x: (t) => MARGIN.left + ((t - from) / (to - from)) * plotWidth,
      y: (v) => MARGIN.top + (1 - v / max) * plotHeight,
    };
    axes(this.svgRoot, frame, from, to, valueTicks(0, max, 3), (v) => formatNumber(v));
    const barWidth = Math.max(1, (result.bucketMs / (to - from)) * plotWidth - 1);
    const windowsPerBucket = Math.max(1, Math.round(result.bucketMs / Math.max(1, result.windowMs)));
    const bars = svg('g', { class: 'bars' });
    // Anomalies per window as a line on its own scale (right axis), over the bars.
    const maxAnomalies = Math.max(0, ...result.events.map((e) => e[2] / windowsPerBucket));
    const ya = (v: number) => MARGIN.top + (1 - v / (maxAnomalies * 1.1 || 1)) * plotHeight;
    let anomalyPath = '';
    let previous: number | undefined;
    for (const [t, perWindow, anomalies] of result.events) {
      const x = frame.x(t);
      const y = frame.y(perWindow);
      const bar = svg('rect', {
        class: 'bar',
        x: x.toFixed(1),
        y: y.toFixed(1),
        width: barWidth.toFixed(1),
        height: Math.max(0, EVENTS_HEIGHT - MARGIN.bottom - y).toFixed(1),
      });
      bar.append(
        svg(
          'title',
          {},
          `${formatTime(t)} · ${formatNumber(Number(perWindow.toFixed(1)))} events per window · ${formatCount(anomalies)} anomal${anomalies === 1 ? 'y' : 'ies'}`,
        ),
      );
      bars.append(bar);
      const gap = previous === undefined || t - previous > result.bucketMs * 1.5;
      anomalyPath += `${gap ? 'M' : 'L'}${(x + barWidth / 2).toFixed(1)},${ya(anomalies / windowsPerBucket).toFixed(1)}`;
      previous = t;
    }
    this.svgRoot.append(bars);
    if (maxAnomalies > 0) {
      this.svgRoot.append(
        svg('path', { class: 'anomaly-line', d: anomalyPath }),
        svg(
          'text',
          { class: 'tick anomaly-label', x: width - MARGIN.right, y: MARGIN.top - 2, 'text-anchor': 'end' },
          `anomalies per window (max ${formatNumber(Number(maxAnomalies.toFixed(1)))})`,
        ),
      );
    }
  }
}
