// What a user relies on before touching any button: the extension activates in a real VS Code, everything
// package.json promises (commands, views, settings) exists, and nothing else sneaks in.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as vscode from 'vscode';
import { SETTING_DEFAULTS } from '../../src/config/settingKeys';
import { extension, testHooks, until } from './hooks';

const PREFIX = 'kafkaFlinkLab.';

/** The commands the e2e journey and the README use by id. */
const CONTRACT_COMMANDS = [
  'kafkaFlinkLab.stack.start',
  'kafkaFlinkLab.generator.start',
  'kafkaFlinkLab.job.start',
  'kafkaFlinkLab.pipeline.startAll',
  'kafkaFlinkLab.results.open',
  'kafkaFlinkLab.topic.create',
];

interface PackageJson {
  contributes?: {
    commands?: { command: string; title: string }[];
    configuration?: { properties?: Record<string, { default?: unknown }> } | { properties?: Record<string, { default?: unknown }> }[];
    views?: Record<string, { id: string; name: string }[]>;
    viewsContainers?: { activitybar?: { id: string; title: string }[] };
    viewsWelcome?: { view: string; contents: string }[];
    walkthroughs?: { id: string; steps: { id: string; description: string; media?: Record<string, unknown> }[] }[];
    menus?: Record<string, { command: string }[]>;
  };
}

/** `command:id` links in markdown (welcome views, walkthrough steps). */
function commandLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\(command:([A-Za-z0-9_.-]+)/g)].map((m) => m[1]);
}

function manifest(): PackageJson {
  return extension().packageJSON as PackageJson;
}

function configurationProperties(): Record<string, { default?: unknown }> {
  const configuration = manifest().contributes?.configuration;
  const sections = Array.isArray(configuration) ? configuration : configuration ? [configuration] : [];
  return Object.assign({}, ...sections.map((section) => section.properties ?? {}));
}

describe('Kafka Flink Lab in the extension host', () => {
  before(async function () {
    this.timeout(60_000);
    await extension().activate();
  });

  it('activates without an error', () => {
    assert.equal(extension().isActive, true);
  });

  it('contributes the commands the pipeline is driven by', () => {
    const contributed = (manifest().contributes?.commands ?? []).map((c) => c.command);
    const missing = CONTRACT_COMMANDS.filter((id) => !contributed.includes(id));
    assert.deepEqual(missing, [], `package.json contributes.commands lacks ${missing.join(', ')}`);
  });

  it('registers every command that package.json contributes', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributed = (manifest().contributes?.commands ?? []).map((c) => c.command);
    const unregistered = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(unregistered, [], `contributed but not registered: ${unregistered.join(', ')}`);
  });

  it('contributes every command it registers (no hidden ids) and every id has the prefix', async () => {
    const contributed = new Set((manifest().contributes?.commands ?? []).map((c) => c.command));
    for (const id of contributed) assert.ok(id.startsWith(PREFIX), `command ${id} lacks the ${PREFIX} prefix`);
    const registered = (await vscode.commands.getCommands(true)).filter((id) => id.startsWith(PREFIX));
    // View-generated commands (`<view>.focus`, `.resetViewLocation`…) belong to VS Code, not to us.
    const viewIds = Object.values(manifest().contributes?.views ?? {})
      .flat()
      .map((v) => v.id);
    const ours = registered.filter((id) => !viewIds.some((view) => id.startsWith(`${view}.`)));
    const hidden = ours.filter((id) => !contributed.has(id));
    assert.deepEqual(hidden, [], `registered but not in package.json: ${hidden.join(', ')}`);
  });

  it('has an activity-bar container with the Kafka and Pipeline views', async () => {
    const containers = manifest().contributes?.viewsContainers?.activitybar ?? [];
    const container = containers.find((c) => c.title.startsWith('Kafka Flink Lab'));
    assert.ok(container, 'no activity-bar container titled "Kafka Flink Lab"');
    const views = manifest().contributes?.views?.[container.id] ?? [];
    const names = views.map((v) => v.name);
    for (const name of ['Kafka', 'Pipeline'])
      assert.ok(names.includes(name), `view "${name}" missing; found ${names.join(', ') || 'none'}`);
    // Focusing a view is what clicking it does; VS Code reports no provider error here (views.test.ts walks the rows).
    for (const view of views) await vscode.commands.executeCommand(`${view.id}.focus`);
  });

  it('resolves every shared setting to the product default in a workspace that sets none', async () => {
    const set = Object.keys(SETTING_DEFAULTS).filter((key) => {
      const inspected = vscode.workspace.getConfiguration('kafkaFlinkLab').inspect(key);
      return (
        inspected?.globalValue !== undefined || inspected?.workspaceValue !== undefined || inspected?.workspaceFolderValue !== undefined
      );
    });
    assert.deepEqual(set, [], 'the test workspace or user settings set these keys');
    // SETTING_DEFAULTS is the product's own list (the CLI's defaults); the extension reads VS Code's configuration.
    const config = (await testHooks()).config();
    const wrong = Object.entries(SETTING_DEFAULTS).flatMap(([key, expected]) => {
      const got = config.pick(key);
      return isDeepStrictEqual(got.value, expected) && got.origin === 'default'
        ? []
        : [`${key} = ${JSON.stringify(got.value)} (${got.origin}: ${got.label}), expected ${JSON.stringify(expected)}`];
    });
    assert.deepEqual(wrong, [], `resolved otherwise: ${wrong.join('; ')}`);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'no workspace folder open');
    assert.equal(config.outputFolder().value, join(folder, SETTING_DEFAULTS.outputFolder));
  });

  it('resolves a workspace setting over the default and names where it came from', async () => {
    const { config } = await testHooks();
    try {
      await vscode.workspace.getConfiguration('kafkaFlinkLab').update('topic', 'exthost-topic', vscode.ConfigurationTarget.Workspace);
      const topic = await until(
        async () => (config().topic().value === 'exthost-topic' ? config().topic() : undefined),
        5000,
        () => `the topic still resolves to ${JSON.stringify(config().topic())}`,
      );
      assert.equal(topic.origin, 'workspace');
      assert.match(topic.label, /kafkaFlinkLab\.topic in the workspace/);
      assert.equal(config().outputFolder().origin, 'default', 'another setting moved with it');
    } finally {
      await vscode.workspace.getConfiguration('kafkaFlinkLab').update('topic', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await until(
      async () => (config().topic().origin === 'default' ? true : undefined),
      5000,
      () => `with the setting removed the topic resolves to ${JSON.stringify(config().topic())}`,
    );
  });

  it('has a bootstrap servers setting that defaults to the local broker', () => {
    const properties = configurationProperties();
    const key = Object.keys(properties).find((k) => /bootstrap/i.test(k));
    assert.ok(key, 'no bootstrap servers setting');
    const value = vscode.workspace.getConfiguration().get(key);
    const text = Array.isArray(value) ? value.join(',') : String(value);
    assert.match(text, /(127\.0\.0\.1|localhost):9092/);
  });

  it('links only to commands that exist from its welcome view and walkthrough', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const contributes = manifest().contributes ?? {};
    const texts = [
      ...(contributes.viewsWelcome ?? []).map((w) => w.contents),
      ...(contributes.walkthroughs ?? []).flatMap((w) => w.steps.map((step) => step.description)),
    ];
    const broken = [...new Set(texts.flatMap(commandLinks))].filter((id) => !registered.has(id));
    assert.deepEqual(broken, [], `links to unknown commands: ${broken.join(', ')}`);
  });

  it('puts only contributed commands in its menus', () => {
    const contributes = manifest().contributes ?? {};
    const contributed = new Set((contributes.commands ?? []).map((c) => c.command));
    const unknown = Object.entries(contributes.menus ?? {}).flatMap(([menu, items]) =>
      items.filter((i) => !contributed.has(i.command)).map((i) => `${menu}: ${i.command}`),
    );
    assert.deepEqual(unknown, [], `menu entries for commands that are not contributed: ${unknown.join(', ')}`);
  });

  it('ships every file package.json refers to (icons, walkthrough pages)', () => {
    const root = extension().extensionPath;
    const referenced = [...new Set(JSON.stringify(manifest().contributes ?? {}).match(/media\/[A-Za-z0-9_./-]+/g) ?? [])];
    const missing = referenced.filter((file) => !existsSync(join(root, file)));
    assert.deepEqual(missing, [], `missing in ${root}: ${missing.join(', ')}`);
  });

  it('opens the results view as a webview panel', async function () {
    this.timeout(30_000);
    const registered = await vscode.commands.getCommands(true);
    assert.ok(registered.includes('kafkaFlinkLab.results.open'), 'kafkaFlinkLab.results.open is not registered');
    await vscode.commands.executeCommand('kafkaFlinkLab.results.open');
    const isResults = () =>
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .find((tab) => tab.input instanceof vscode.TabInputWebview && /result/i.test(`${tab.input.viewType} ${tab.label}`));
    const deadline = Date.now() + 20_000;
    while (!isResults() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const tab = isResults();
    assert.ok(
      tab,
      `no results webview tab; tabs: ${
        vscode.window.tabGroups.all
          .flatMap((g) => g.tabs)
          .map((t) => t.label)
          .join(', ') || 'none'
      }`,
    );
  });
});
