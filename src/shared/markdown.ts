// Markdown escaping for tooltips: text from outside shows as its characters, never as markup.
/**
 * Text from outside (a broker's host or error, a consumer group id, a Flink job's name) placed into the Markdown
 * of a tooltip. VS Code renders it with links, images and theme icons, and the status bar's tooltip is trusted
 * with command links: a value must show as the characters it holds, never become markup.
 */

/**
 * Every ASCII punctuation character backslash-escaped (CommonMark lets any of them be escaped, and an escaped one
 * is always literal), `$(` kept from becoming a theme icon, line breaks flattened so a value cannot open a block.
 */
export function mdText(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').replace(/[!-/:-@[-`{-~]/g, (c) => `\\${c}`);
}

/**
 * A value in code style: inside a code span nothing is markup, as long as the value cannot close the span (no
 * backtick) or end the paragraph (no line break); any other value (or one with a `$(` icon) is escaped text.
 */
export function mdCode(value: string): string {
  if (value === '' || /[`\r\n]|\$\(/.test(value)) return mdText(value);
  return `\`${value}\``;
}

/** A fenced block for multi-line text (a log tail): the fence is longer than any run of backticks in it. */
export function mdFence(value: string): string {
  const longest = Math.max(2, ...[...value.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${value}\n${fence}`;
}
