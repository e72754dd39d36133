// The configuration resolver: one precedence, one check per value, one meaning of a path, and the SASL trust rule by origin.
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterOf, configOf } from '../../src/cli/context';
import { cliContext } from '../support/cli';
import { InvalidValueError, PipelineConfig, type ConfigInputs, type SettingScope, type SettingsSource } from '../../src/config/resolver';
import { SETTING_DEFAULTS } from '../../src/config/settingKeys';
import { WorkspaceFileSettings } from '../../src/config/workspaceSettings';

/** VS Code's two scopes as the extension's source answers them, from plain tables. */
function scopes(workspace: Record<string, unknown>, user: Record<string, unknown>): SettingsSource {
  return {
    read(key: string, scope: SettingScope) {
      const table = scope === 'workspace' ? workspace : user;
      return key in table ? { value: table[key], label: `kafkaFlinkLab.${key} in the ${scope} settings` } : undefined;
    },
    defaultOf: (key: string) => SETTING_DEFAULTS[key as keyof typeof SETTING_DEFAULTS],
  };
}

describe('the configuration resolver', () => {
  let workspace: string;
  let elsewhere: string;
  beforeEach(() => {
    workspace = mkdtempSync(join(tmpdir(), 'kfl-config-ws-'));
    elsewhere = mkdtempSync(join(tmpdir(), 'kfl-config-cwd-'));
  });
  afterEach(() => {
    rmSync(workspace, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  });

  const settingsFile = (settings: Record<string, unknown>, text = JSON.stringify(settings)) => {
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), text);
  };
  const cli = (flags: Record<string, string | boolean> = {}, env: NodeJS.ProcessEnv = {}) =>
    new PipelineConfig({ settings: new WorkspaceFileSettings(workspace), workspace, flags, env, cwd: elsewhere });
  const ctx = (values: Record<string, string | boolean>) => cliContext(workspace, values);

  it('chooses flag, then environment, then workspace, then user settings, then the default, and says which', () => {
    const inputs = (flags: ConfigInputs['flags'], env: NodeJS.ProcessEnv, ws: Record<string, unknown>, user: Record<string, unknown>) =>
      new PipelineConfig({ settings: scopes(ws, user), workspace, flags, env }).bootstrapServers();
    const all = { ws: { bootstrapServers: 'ws:1' }, user: { bootstrapServers: 'user:1' } };
    assert.deepEqual(inputs({ 'bootstrap-servers': 'flag:1' }, { PIPELINE_BOOTSTRAP_SERVERS: 'env:1' }, all.ws, all.user), {
      value: 'flag:1',
      origin: 'flag',
      label: '--bootstrap-servers',
    });
    assert.deepEqual(inputs({}, { PIPELINE_BOOTSTRAP_SERVERS: 'env:1' }, all.ws, all.user), {
      value: 'env:1',
      origin: 'environment',
      label: 'PIPELINE_BOOTSTRAP_SERVERS',
    });
    assert.deepEqual(inputs({}, { PIPELINE_BOOTSTRAP_SERVERS: '' }, all.ws, all.user), {
      value: 'ws:1',
      origin: 'workspace',
      label: 'kafkaFlinkLab.bootstrapServers in the workspace settings',
    });
    assert.deepEqual(inputs({}, {}, {}, all.user), {
      value: 'user:1',
      origin: 'user',
      label: 'kafkaFlinkLab.bootstrapServers in the user settings',
    });
    assert.deepEqual(inputs({}, {}, {}, {}), {
      value: '127.0.0.1:9092',
      origin: 'default',
      label: 'the default of kafkaFlinkLab.bootstrapServers',
    });
    // A value without a flag or a variable of its own: settings, then the default.
    const config = new PipelineConfig({ settings: scopes({}, { partitions: 6 }), workspace, flags: { partitions: '9' } });
    assert.deepEqual(config.partitions(), { value: 6, origin: 'user', label: 'kafkaFlinkLab.partitions in the user settings' });
  });

  it('the CLI: bootstrap servers from the flag, then the environment, then .vscode/settings.json, then the local broker', () => {
    assert.equal(cli().bootstrapServers().value, '127.0.0.1:9092');
    settingsFile({}, '{ // the team cluster\n "kafkaFlinkLab.bootstrapServers": "kafka:9092", }');
    assert.deepEqual(cli().bootstrapServers(), {
      value: 'kafka:9092',
      origin: 'workspace',
      label: 'kafkaFlinkLab.bootstrapServers in .vscode/settings.json',
    });
    assert.equal(cli({}, { PIPELINE_BOOTSTRAP_SERVERS: 'env:1' }).bootstrapServers().value, 'env:1');
    assert.equal(cli({ 'bootstrap-servers': 'flag:2' }, { PIPELINE_BOOTSTRAP_SERVERS: 'env:1' }).bootstrapServers().value, 'flag:2');
  });

  it("the CLI's SQL Gateway: --gateway, then PIPELINE_SQL_GATEWAY_URL, then .vscode/settings.json, then the local one ('')", () => {
    assert.deepEqual(cli().sqlGatewayUrl(), { value: '', origin: 'default', label: 'the default of kafkaFlinkLab.flink.sqlGatewayUrl' });
    settingsFile({ 'kafkaFlinkLab.flink.sqlGatewayUrl': ' https://gw.example:8083 ' });
    assert.deepEqual(cli().sqlGatewayUrl(), {
      value: 'https://gw.example:8083',
      origin: 'workspace',
      label: 'kafkaFlinkLab.flink.sqlGatewayUrl in .vscode/settings.json',
    });
    const env = { PIPELINE_SQL_GATEWAY_URL: 'https://env.example:8083' };
    assert.equal(cli({}, env).sqlGatewayUrl().origin, 'environment');
    assert.deepEqual(cli({ gateway: 'https://flag.example:8083' }, env).sqlGatewayUrl(), {
      value: 'https://flag.example:8083',
      origin: 'flag',
      label: '--gateway',
    });
  });

  it('the CLI reads the pipeline settings of the workspace file, with the defaults of package.json, and never its SASL settings', () => {
    settingsFile({
      'kafkaFlinkLab.topic': 'plant-7',
      'kafkaFlinkLab.windowSeconds': 30,
      'kafkaFlinkLab.job.groupId': 'team-a',
      'kafkaFlinkLab.generator.rate': 0,
      'kafkaFlinkLab.flink.target': 'local-cluster',
      'kafkaFlinkLab.sasl.mechanism': 'plain',
      'kafkaFlinkLab.tls': true,
    });
    const config = cli({ window: '5' });
    assert.equal(config.topic().value, 'plant-7');
    assert.deepEqual(config.windowSeconds(), { value: 5, origin: 'flag', label: '--window' });
    assert.equal(config.groupId().value, 'team-a');
    assert.equal(config.generatorRate().value, 0);
    assert.equal(config.generatorSensors().value, 10);
    assert.equal(config.partitions().value, 3);
    assert.deepEqual(config.flinkTarget(), {
      value: 'local-cluster',
      origin: 'workspace',
      label: 'kafkaFlinkLab.flink.target in .vscode/settings.json',
    });
    assert.equal(config.flinkRestUrl().value, 'http://127.0.0.1:8081');
    const security = config.security();
    assert.deepEqual(
      [security.mechanism.value, security.mechanism.origin, security.tls.value, security.tls.origin],
      ['none', 'default', false, 'default'],
    );
    const flagged = cli({ 'sasl-mechanism': 'scram-sha-256', tls: true }).security();
    assert.deepEqual([flagged.mechanism.origin, flagged.mechanism.label, flagged.tls.value], ['flag', '--sasl-mechanism', true]);
  });

  it('a path: a flag relative to the current folder, a setting relative to the workspace, ${workspaceFolder} in both, absolute kept', () => {
    assert.deepEqual(cli().outputFolder(), {
      value: join(workspace, 'output'),
      origin: 'default',
      label: 'the default of kafkaFlinkLab.outputFolder',
    });
    assert.equal(cli({ output: 'out' }).outputFolder().value, join(elsewhere, 'out'));
    assert.equal(cli({ output: '${workspaceFolder}/out' }).outputFolder().value, join(workspace, 'out'));
    assert.equal(cli({ output: '/tmp/x' }).outputFolder().value, '/tmp/x');
    settingsFile({}, '{ // comment\n "kafkaFlinkLab.outputFolder": "data/out", }');
    assert.equal(cli().outputFolder().value, join(workspace, 'data', 'out'));
    settingsFile({ 'kafkaFlinkLab.outputFolder': '${workspaceFolder}/o2' });
    assert.deepEqual(cli().outputFolder(), {
      value: join(workspace, 'o2'),
      origin: 'workspace',
      label: 'kafkaFlinkLab.outputFolder in .vscode/settings.json',
    });
    settingsFile({ 'kafkaFlinkLab.outputFolder': '/srv/results' });
    assert.equal(cli().outputFolder().value, '/srv/results');
    settingsFile({ 'kafkaFlinkLab.outputFolder': '  ' });
    assert.equal(cli().outputFolder().value, join(workspace, 'output'));
    // A user setting is a setting: relative to the workspace too.
    const user = new PipelineConfig({ settings: scopes({}, { outputFolder: 'res' }), workspace, cwd: elsewhere });
    assert.equal(user.outputFolder().value, join(workspace, 'res'));
    assert.throws(() => cli({ output: '' }).outputFolder(), /--output cannot be empty/);
  });

  it('one bad bootstrap value gives the one message, naming where it came from', () => {
    assert.throws(
      () => cli({ 'bootstrap-servers': 'localhost' }).bootstrapServers(),
      /--bootstrap-servers: "localhost" is not a host:port/,
    );
    assert.throws(
      () => cli({}, { PIPELINE_BOOTSTRAP_SERVERS: 'a:1,' }).bootstrapServers(),
      (e: Error) =>
        e instanceof InvalidValueError &&
        e.message === 'PIPELINE_BOOTSTRAP_SERVERS: Bootstrap servers must be a comma-separated list of host:port.' &&
        e.given.value === 'a:1,',
    );
    settingsFile({ 'kafkaFlinkLab.bootstrapServers': 'kafka:99999' });
    assert.throws(
      () => cli().bootstrapServers(),
      (e: Error) =>
        e.message === 'kafkaFlinkLab.bootstrapServers in .vscode/settings.json: "kafka:99999" is not a host:port address.' &&
        (e as InvalidValueError).given.origin === 'workspace',
    );
    // The CLI's commands check it through the same resolver.
    assert.throws(() => clusterOf(ctx({})), /kafkaFlinkLab\.bootstrapServers in \.vscode\/settings\.json: "kafka:99999"/);
  });

  it('numbers and text are checked once, with the place in the message', () => {
    assert.throws(() => cli({ window: '0' }).windowSeconds(), /--window must be a whole number of at least 1\.$/);
    assert.throws(() => cli({ window: 'ten' }).windowSeconds(), /--window must be a number \(got ten\)/);
    assert.throws(() => cli({ sensors: '100001' }).generatorSensors(), /--sensors must be at most 100000/);
    settingsFile({ 'kafkaFlinkLab.windowSeconds': 90_000, 'kafkaFlinkLab.topic': 'a b', 'kafkaFlinkLab.partitions': '3' });
    assert.throws(() => cli().windowSeconds(), /kafkaFlinkLab\.windowSeconds in \.vscode\/settings\.json must be at most 86400/);
    assert.throws(() => cli().topic(), /kafkaFlinkLab\.topic in \.vscode\/settings\.json: A topic name may contain only/);
    assert.equal(cli().partitions().value, 3);
    settingsFile({ 'kafkaFlinkLab.topic': 7 });
    assert.throws(() => cli().topic(), /kafkaFlinkLab\.topic in \.vscode\/settings\.json must be text \(got 7\)/);
  });

  it('a SASL password goes to bootstrap servers from a flag or the environment, never from the workspace file or the default', () => {
    const sasl = { 'sasl-mechanism': 'plain', 'sasl-username': 'alice', tls: true };
    const env = { PIPELINE_SASL_PASSWORD: 'secret' };
    assert.throws(
      () => clusterOf(ctx(sasl), env),
      /named with --bootstrap-servers or PIPELINE_BOOTSTRAP_SERVERS; 127\.0\.0\.1:9092 comes from the default/,
    );
    settingsFile({ 'kafkaFlinkLab.bootstrapServers': 'evil.example:9093' });
    assert.equal(configOf(ctx(sasl), env).bootstrapServers().origin, 'workspace');
    assert.throws(
      () => clusterOf(ctx(sasl), env),
      /evil\.example:9093 comes from kafkaFlinkLab\.bootstrapServers in \.vscode\/settings\.json/,
    );
    const flagged = clusterOf(ctx({ ...sasl, 'bootstrap-servers': 'b1.corp:9093' }), env);
    assert.equal(flagged.bootstrapServers, 'b1.corp:9093');
    assert.equal(flagged.connection.sasl?.password, 'secret');
    const fromEnv = clusterOf(ctx(sasl), { ...env, PIPELINE_BOOTSTRAP_SERVERS: 'b2.corp:9093' });
    assert.equal(fromEnv.bootstrapServers, 'b2.corp:9093');
    assert.equal(fromEnv.connection.sasl?.password, 'secret');
    // Without SASL the workspace's servers are used as they are.
    assert.equal(clusterOf(ctx({}), {}).bootstrapServers, 'evil.example:9093');
  });
});
