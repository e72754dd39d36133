import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SETTING_DEFAULTS } from '../../src/config/settingKeys';
import { repoRoot } from '../support/cli';

/**
 * package.json and the code agree: every contributed command is registered and every registered command is
 * contributed (like vscode-pull-request-github's check-commands), menus name real commands, settings read in
 * code are declared with defaults, context keys in `when` clauses are ones the code sets, media files exist.
 */
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.ts$/.test(name) ? [full] : [];
  });
}
const code = sources(join(repoRoot, 'src')).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
const registered = new Map<string, string>();
for (const { file, text } of code) {
  for (const m of text.matchAll(/(?:registerCommandWithLogging|commands\.registerCommand)\(\s*['"`]([^'"`]+)['"`]/g))
    registered.set(m[1], file);
}
const contributed: string[] = contributes.commands.map((c: { command: string }) => c.command);

describe('package.json contributions match the code', () => {
  it('finds the registrations', () => {
    assert.ok(registered.size >= 20, `found ${registered.size} registered commands`);
  });

  it('every contributed command is registered', () => {
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but never registered: ${missing.join(', ')}`);
  });

  it('every registered command is contributed', () => {
    const extra = [...registered.keys()].filter((id) => !contributed.includes(id));
    assert.deepEqual(extra, [], `registered but not in package.json: ${extra.join(', ')}`);
  });

  it('command ids are kafkaFlinkLab.<area>.<verb>, unique, with a title and the category', () => {
    assert.equal(new Set(contributed).size, contributed.length);
    for (const c of contributes.commands) {
      assert.match(c.command, /^kafkaFlinkLab\.[a-z]+\.[a-zA-Z]+$/, c.command);
      assert.ok(c.title, `${c.command} has a title`);
      assert.equal(c.category, 'Kafka Flink Lab', `${c.command} category`);
    }
  });

  it('menus and the status bar name contributed commands only', () => {
    // VS Code's own "<view id>.focus" of each contributed view.
    const views = Object.values(contributes.views as Record<string, { id: string }[]>).flat();
    const builtIn = new Set(views.map((v) => `${v.id}.focus`));
    assert.ok(builtIn.has('kafkaFlinkLab.flink.focus'), [...builtIn].join(', '));
    for (const [menu, items] of Object.entries(contributes.menus as Record<string, { command: string }[]>)) {
      for (const item of items) assert.ok(contributed.includes(item.command) || builtIn.has(item.command), `${menu}: ${item.command}`);
    }
    for (const { text, file } of code) {
      for (const m of text.matchAll(/command(?:s\.executeCommand\(|: )'(kafkaFlinkLab\.[\w.]+)'/g)) {
        assert.ok(contributed.includes(m[1]) || builtIn.has(m[1]) || m[1] === 'kafkaFlinkLab.results.open', `${file} uses ${m[1]}`);
      }
    }
  });

  it('every setting read in src/services/settings.ts is declared with a type, a default and a description, and none is unused', () => {
    const settingsSource = readFileSync(join(repoRoot, 'src', 'services', 'settings.ts'), 'utf8');
    const read = [...settingsSource.matchAll(/new Setting<[^>]+>\('([^']+)'\)/g)].map((m) => `kafkaFlinkLab.${m[1]}`);
    const declared = contributes.configuration.properties as Record<
      string,
      { type: string; default: unknown; description?: string; markdownDescription?: string }
    >;
    for (const key of read) {
      assert.ok(declared[key], `${key} is declared in package.json`);
      assert.ok(declared[key].type, `${key} has a type`);
      assert.notEqual(declared[key].default, undefined, `${key} has a default`);
      assert.ok(declared[key].description || declared[key].markdownDescription, `${key} has a description`);
    }
    const mine = Object.keys(declared).filter((k) => !k.startsWith('kafkaFlinkLab.results'));
    const unused = mine.filter((k) => !read.includes(k));
    assert.deepEqual(unused, [], `declared but never read: ${unused.join(', ')}`);
    assert.ok(!Object.keys(declared).some((k) => /password/i.test(k)), 'no password in settings (it lives in SecretStorage)');
  });

  it('no setting key is a prefix of another (VS Code keeps one of kafkaFlinkLab.tls and kafkaFlinkLab.tls.caFile and drops the other)', () => {
    const keys = Object.keys(contributes.configuration.properties as Record<string, unknown>);
    const clashes = keys.flatMap((a) => keys.filter((b) => b.startsWith(`${a}.`)).map((b) => `${a} / ${b}`));
    assert.deepEqual(clashes, []);
  });

  it('the defaults the CLI uses (src/config/settingKeys.ts) are the ones package.json declares', () => {
    const declared = contributes.configuration.properties as Record<string, { default: unknown }>;
    for (const [key, value] of Object.entries(SETTING_DEFAULTS))
      assert.deepEqual(value, declared[`kafkaFlinkLab.${key}`]?.default, `kafkaFlinkLab.${key}`);
  });

  it('context keys in when clauses are the ones the code sets', () => {
    const enumSource = readFileSync(join(repoRoot, 'src', 'services', 'contextKeys.ts'), 'utf8');
    const keys = new Set([...enumSource.matchAll(/= '(kafkaFlinkLab\.[\w.]+)'/g)].map((m) => m[1]));
    const whens = JSON.stringify(contributes.menus) + JSON.stringify(contributes.walkthroughs) + JSON.stringify(contributes.viewsWelcome);
    for (const m of whens.matchAll(
      /kafkaFlinkLab\.(brokerUp|localStackRunning|generatorRunning|jobRunning|primaryIsLocal|flinkView|[a-zA-Z]+Running|[a-zA-Z]+Up)\b/g,
    )) {
      assert.ok(keys.has(m[0]), `${m[0]} is a ContextKey`);
    }
  });

  it('the activity bar container, its four views, the icon, the welcome views and the walkthrough media exist', () => {
    const container = contributes.viewsContainers.activitybar.find((c: { id: string }) => c.id === 'kafkaFlinkLab');
    assert.equal(container.title, 'Kafka Flink Lab');
    assert.ok(existsSync(join(repoRoot, container.icon)), container.icon);
    assert.match(readFileSync(join(repoRoot, container.icon), 'utf8'), /^<svg/);
    assert.deepEqual(
      contributes.views.kafkaFlinkLab.map((v: { id: string; name: string }) => [v.id, v.name]),
      [
        ['kafkaFlinkLab.kafka', 'Kafka'],
        ['kafkaFlinkLab.pipeline', 'Pipeline'],
        ['kafkaFlinkLab.flink', 'Flink'],
        ['kafkaFlinkLab.sqlStatements', 'Flink SQL Statements'],
      ],
    );
    assert.match(contributes.viewsWelcome[0].contents, /\[Start local Kafka\]\(command:kafkaFlinkLab\.stack\.start\)/);
    const flinkWelcome = contributes.viewsWelcome.find((w: { view: string }) => w.view === 'kafkaFlinkLab.flink');
    assert.match(flinkWelcome.contents, /\[Start the Flink job\]\(command:kafkaFlinkLab\.job\.start\)/);
    assert.equal(flinkWelcome.when, 'kafkaFlinkLab.flinkView == noJob');
    const walkthrough = contributes.walkthroughs[0];
    const text = walkthrough.steps
      .map((s: { media: { markdown: string } }) => readFileSync(join(repoRoot, s.media.markdown), 'utf8'))
      .join('\n');
    const titles = walkthrough.steps.map((s: { title: string }) => s.title);
    for (const title of ['Watermarks: when does a window fire?', 'Checkpoints: how exactly-once works', 'Write your own Flink SQL'])
      assert.ok(titles.includes(title), `the walkthrough has the step "${title}"`);
    for (const idea of [
      'topic',
      'partition',
      'offset',
      'consumer group',
      'retention',
      'exactly-once',
      'watermark',
      'checkpoint',
      'savepoint',
    ])
      assert.match(text.toLowerCase(), new RegExp(idea), `the walkthrough explains ${idea}`);
  });
});
