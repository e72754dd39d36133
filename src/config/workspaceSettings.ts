import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SETTINGS_PREFIX = 'kafkaFlinkLab';

/** Strips // and /* comments and trailing commas from JSONC (VS Code settings files), leaving strings intact. */
export function parseJsonc(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) i++;
      i++;
    } else out += c;
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

/** A setting of this extension as written in `<workspace>/.vscode/settings.json`, so the CLI honours it too. */
export function readWorkspaceSetting<T>(workspace: string, key: string): T | undefined {
  try {
    const settings = parseJsonc(readFileSync(join(workspace, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
    return settings[`${SETTINGS_PREFIX}.${key}`] as T | undefined;
  } catch {
    return undefined;
  }
}

export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092';

/** The flag, then PIPELINE_BOOTSTRAP_SERVERS, then the workspace setting, then the local broker. */
export function resolveBootstrapServers(workspace: string, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.PIPELINE_BOOTSTRAP_SERVERS || readWorkspaceSetting<string>(workspace, 'bootstrapServers') || DEFAULT_BOOTSTRAP;
}
