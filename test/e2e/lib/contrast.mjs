// Colour contrast inside a webview, as WCAG 2.1 defines it: text against the background it is drawn on (1.4.3,
// 4.5:1) and graphics — chart lines — against theirs (1.4.11, 3:1). Used by the journey's theme step.

/**
 * Runs in the webview's document (Playwright's `evaluate` sends the function's source, so everything it needs is
 * inside it). For each probe — a CSS selector and which property is its foreground — returns the colours seen and
 * their contrast ratio against the element's effective background (its own and its ancestors' backgrounds,
 * composited over the first opaque one).
 */
export function measureContrast(body, probes) {
  const parse = (text) => {
    const match = /rgba?\(([^)]+)\)/.exec(text ?? '');
    if (!match) return undefined;
    const parts = match[1]
      .split(/[\s,/]+/)
      .filter(Boolean)
      .map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const channel = (v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const background = (element) => {
    const layers = [];
    for (let el = element; el; el = el.parentElement) {
      const bg = parse(getComputedStyle(el).backgroundColor);
      if (bg && bg.a > 0) {
        layers.push(bg);
        if (bg.a >= 1) break;
      }
    }
    // Nothing opaque up to <html>: the webview is transparent over the editor, whose colour VS Code passes in as
    // --vscode-editor-background.
    let colour = layers.length && layers[layers.length - 1].a >= 1 ? layers.pop() : editor;
    while (layers.length) colour = over(layers.pop(), colour);
    return colour;
  };
  const swatch = body.ownerDocument.createElement('div');
  swatch.style.backgroundColor = 'var(--vscode-editor-background)';
  body.append(swatch);
  const editor = parse(getComputedStyle(swatch).backgroundColor);
  swatch.remove();
  if (!editor || editor.a < 1)
    return [{ name: 'editor background', unreadable: String(getComputedStyle(body).getPropertyValue('--vscode-editor-background')) }];
  const css = (c) => `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
  const results = [];
  const made = [];
  for (const probe of probes) {
    let elements = [...body.ownerDocument.querySelectorAll(probe.selector)].slice(0, probe.max ?? 1);
    // A probe with `make` measures elements it adds to the first match (every colour of a palette, drawn or not).
    if (probe.make && elements.length) {
      const container = elements[0];
      elements = probe.make.classes.map((cls) => {
        const el = body.ownerDocument.createElementNS(container.namespaceURI, probe.make.tag);
        el.setAttribute('class', cls);
        container.append(el);
        made.push(el);
        return el;
      });
    }
    if (elements.length === 0) {
      results.push({ name: probe.name, missing: true });
      continue;
    }
    for (const element of elements) {
      const style = getComputedStyle(element);
      const raw = parse(style[probe.property]);
      if (!raw) {
        results.push({ name: probe.name, unreadable: style[probe.property] });
        continue;
      }
      const bg = background(element);
      const fg = raw.a < 1 ? over(raw, bg) : raw;
      results.push({
        name: probe.name,
        label: element.getAttribute('class') ?? element.tagName,
        fg: css(fg),
        bg: css(bg),
        ratio: Math.round(ratio(fg, bg) * 100) / 100,
        min: probe.min,
      });
    }
  }
  for (const el of made) el.remove();
  return results;
}

/** What the theme step checks: text at 4.5:1, chart lines at 3:1. */
export const CONTRAST_PROBES = [
  { name: 'summary label', selector: '[data-testid="results-summary"] .stat .label', property: 'color', min: 4.5 },
  { name: 'summary figure', selector: '[data-testid="results-summary"] .stat .value', property: 'color', min: 4.5 },
  { name: 'table header', selector: 'thead th', property: 'color', min: 4.5 },
  { name: 'table cell', selector: '[data-testid="results-row"] td', property: 'color', min: 4.5 },
  { name: 'chart axis label', selector: '[data-testid="results-chart"] text.tick', property: 'fill', min: 4.5 },
  { name: 'legend entry', selector: '.legend-item', property: 'color', min: 4.5 },
  { name: 'chart line', selector: '[data-testid="results-chart"] path.series', property: 'stroke', min: 3, max: 12 },
  // The palette has six colours; a run with fewer sensors draws fewer, so each is also measured on its own.
  {
    name: 'chart palette',
    selector: '[data-testid="results-chart"]',
    property: 'stroke',
    min: 3,
    make: { tag: 'path', classes: [0, 1, 2, 3, 4, 5].map((i) => `series s${i} d0`) },
  },
];
