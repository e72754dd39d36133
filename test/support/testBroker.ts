// A one-node Kafka broker for the secured-cluster tests: the local stack's own configuration with other listeners, started from the Maven jars.
import * as assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkJava } from '../../src/local/environment';
import { ensureKafkaJars } from '../../src/local/install';
import { isAlive, pollUntil, runCommand, spawnDetached } from '../../src/local/proc';
import { newClusterId, serverProperties } from '../../src/local/stack';

export interface TestBrokerOptions {
  /** The broker's folder: its data, configuration and log. */
  dir: string;
  port: number;
  controllerPort: number;
  /** Replace the stack's lines of these names: `listeners`, `advertised.listeners`, `inter.broker.listener.name`, `listener.security.protocol.map`. */
  listeners: Record<'listeners' | 'advertised.listeners' | 'inter.broker.listener.name' | 'listener.security.protocol.map', string>;
  /** More lines for server.properties (SSL stores, SASL users). */
  extra: string[];
  /** For the messages: "the TLS broker". */
  name: string;
  /** Resolves once a client gets an answer; rejects (and is tried again) until then. */
  answers: () => Promise<unknown>;
}

/** Formats and starts the broker, waits up to 120 s until `answers` resolves, and returns its pid. */
export async function startTestBroker(o: TestBrokerOptions): Promise<number> {
  const java = await checkJava();
  const classpath = `${await ensureKafkaJars(() => undefined)}/*`;
  const node = { id: 1, port: o.port, controllerPort: o.controllerPort };
  let props = serverProperties(node, [node], join(o.dir, 'data'));
  for (const [name, value] of Object.entries(o.listeners)) {
    const pattern = new RegExp(`^${name.replace(/\./g, '\\.')}=.*$`, 'm');
    assert.match(props, pattern, `the local broker configuration still has a ${name} line`);
    props = props.replace(pattern, `${name}=${value}`);
  }
  props += [...o.extra, ''].join('\n');
  const config = join(o.dir, 'server.properties');
  writeFileSync(config, props);
  const format = await runCommand(
    java.binary,
    ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', config],
    {
      timeoutMs: 120_000,
    },
  );
  assert.equal(format.code, 0, format.stdout + format.stderr);
  const log = openSync(join(o.dir, 'broker.log'), 'a');
  const pid = spawnDetached(java.binary, ['-Xmx256m', `-Dkafka.logs.dir=${o.dir}`, '-cp', classpath, 'kafka.Kafka', config], {
    cwd: o.dir,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const ready = await pollUntil(
    async () => {
      assert.ok(isAlive(pid), `${o.name} exited: ${readFileSync(join(o.dir, 'broker.log'), 'utf8').slice(-3000)}`);
      return o.answers().then(
        () => true,
        () => undefined,
      );
    },
    120_000,
    1000,
  );
  assert.ok(ready, `${o.name} answers within 120 s`);
  return pid;
}
