// DOM helpers of the results webview: elements built with textContent and setAttribute, never parsed HTML.
/**
 * DOM helpers of the results webview. Text goes in with `textContent` and attributes with `setAttribute`: file
 * data is never parsed as HTML, so a value such as `<img src=x onerror=…>` shows as those characters.
 */

type Attributes = Record<string, string | number | boolean | undefined>;
type Child = Node | string | null | undefined | false;

function apply(element: Element, attributes: Attributes, children: Child[]): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes?: Attributes, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attributes?: Attributes, ...children: Child[]): HTMLElement;
export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  apply(element, attributes, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  apply(element, attributes, children);
  return element;
}

export function icon(name: string): HTMLElement {
  return h('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

export function clear(element: Element): void {
  element.replaceChildren();
}

/** A secondary toolbar button with a codicon. */
export function button(label: string, iconName: string, onClick: () => void, attributes: Record<string, string> = {}): HTMLElement {
  const b = h('vscode-button', { icon: iconName, secondary: true, ...attributes }, label);
  b.addEventListener('click', onClick);
  return b;
}
