// The CLI's settings: VS Code's settings file of the workspace, read as JSON with comments.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SettingScope, SettingsSource } from './resolver';
import { isSettingKey, SETTING_DEFAULTS, SETTINGS_PREFIX } from './settingKeys';

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

/** The keys the CLI honours from the file: the pipeline's; its SASL and TLS come from its flags only. */
const CLI_KEYS = new Set<string>([
  'bootstrapServers',
  'topic',
  'partitions',
  'generator.rate',
  'generator.sensors',
  'windowSeconds',
  'job.groupId',
  'job.parallelism',
  'outputFolder',
  'flinkRestUrl',
  'flink.target',
  'flink.sqlGatewayUrl',
]);

/** The CLI's settings: `<workspace>/.vscode/settings.json` as the workspace scope, no user scope, the shared defaults. */
export class WorkspaceFileSettings implements SettingsSource {
  private parsed?: Record<string, unknown>;

  constructor(private readonly workspace: string) {}

  read(key: string, scope: SettingScope): { value: unknown; label: string } | undefined {
    if (scope !== 'workspace' || !CLI_KEYS.has(key)) return undefined;
    const value = this.file()[`${SETTINGS_PREFIX}.${key}`];
    return value === undefined ? undefined : { value, label: `${SETTINGS_PREFIX}.${key} in .vscode/settings.json` };
  }

  defaultOf(key: string): unknown {
    return isSettingKey(key) ? SETTING_DEFAULTS[key] : undefined;
  }

  private file(): Record<string, unknown> {
    if (!this.parsed) {
      try {
        this.parsed = parseJsonc(readFileSync(join(this.workspace, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
      } catch {
        this.parsed = {};
      }
    }
    return this.parsed;
  }
}
