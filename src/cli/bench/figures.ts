// A figure of `pipeline bench`: one measured value of a section, with its unit and the budget it is reported against.
export const SECTIONS = ['broker', 'generator', 'job', 'latency', 'sql', 'tree', 'browse', 'results', 'webview'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Figure {
  section: Section;
  name: string;
  value: number;
  unit: string;
  note?: string;
  /** The budget, where there is one: reported against, never asserted. */
  budget?: number;
  /** A budget the figure must reach rather than stay under. */
  atLeast?: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
