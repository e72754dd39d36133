// `pipeline stack up|down|status|reset` and `pipeline topic create|list`: the local Kafka and its topics.
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { UserError } from '../shared/errors';
import { parseBootstrapServers } from '../kafka/kafkaClient';
import { LocalStack } from '../local/stack';
import { KafkaAdminClient } from '../kafka/kafkaAdmin';
import { bootstrapOption, clusterOf, numberFlag, securityOption, workspaceOption, type CliCommand, type CliContext } from './context';

/** Prints the tail of a file and then what is appended, until aborted or `stillRunning` turns false. */
async function followFile(file: string, signal: AbortSignal, stillRunning: () => boolean, print: (line: string) => void): Promise<boolean> {
  let position = 0;
  try {
    const size = statSync(file).size;
    const start = Math.max(0, size - 4000);
    const head = readFileSync(file).subarray(start).toString();
    for (const line of head.split('\n').slice(start > 0 ? 1 : 0)) if (line) print(line);
    position = size;
  } catch {
    /* not yet written */
  }
  let partial = '';
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, 500));
    let size = 0;
    try {
      size = statSync(file).size;
    } catch {
      continue;
    }
    if (size < position) position = 0;
    if (size > position) {
      const fd = openSync(file, 'r');
      const buffer = Buffer.alloc(Math.min(size - position, 1_000_000));
      readSync(fd, buffer, 0, buffer.length, position);
      closeSync(fd);
      position += buffer.length;
      const lines = (partial + buffer.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) print(line);
    }
    if (!stillRunning()) return false;
  }
  return true;
}

function stack(ctx: CliContext): LocalStack {
  return new LocalStack(ctx.workspace);
}

function brokersFlag(value: string | boolean | undefined): 1 | 3 {
  if (value === undefined || value === '1') return 1;
  if (value === '3') return 3;
  throw new UserError(`--brokers must be 1 or 3 (got ${String(value)}).`);
}

/** An admin client of the command's cluster, with its TLS and SASL (see clusterOf). */
function adminOf(ctx: CliContext): KafkaAdminClient {
  const cluster = clusterOf(ctx);
  return new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(cluster.bootstrapServers), ...cluster.connection });
}

export const stackCli: Record<string, CliCommand> = {
  'stack up': {
    usage: 'pipeline stack up [--brokers 1|3] [--follow]',
    summary:
      'start the local Kafka (KRaft) broker, downloading it once; creates sensor-data and sensor-alerts; --follow then shows the broker log until Ctrl-C',
    options: { ...workspaceOption, brokers: { type: 'string' }, follow: { type: 'boolean' } },
    async run(ctx) {
      const local = stack(ctx);
      const result = await local.up({ brokers: brokersFlag(ctx.values.brokers), progress: ctx.progress });
      if (result.alreadyRunning) {
        ctx.print(`The local Kafka stack is already running on ${result.bootstrapServers}; nothing changed.`);
      } else {
        ctx.print(
          `Kafka is up on ${result.bootstrapServers} (node${result.startedNodes.length > 1 ? 's' : ''} ${result.startedNodes.join(', ')}) in ${(result.elapsedMs / 1000).toFixed(1)} s.`,
        );
        if (result.createdTopics.length > 0) ctx.print(`Created topics: ${result.createdTopics.join(', ')}.`);
      }
      if (!ctx.values.follow) return 0;
      const mode = local.runningMode() ?? 'single';
      ctx.print(
        `Showing the broker log (${local.logFile(mode, 1)}); Ctrl-C stops showing it, the broker keeps running (\`pipeline stack down\` stops it).`,
      );
      const alive = await followFile(local.logFile(mode, 1), ctx.signal, () => local.nodePid(mode, 1) !== undefined, ctx.print);
      if (!alive) {
        ctx.print('The Kafka broker process has stopped.');
        return 1;
      }
      return 0;
    },
  },
  'stack down': {
    usage: 'pipeline stack down [--node N]',
    summary: 'stop the local Kafka broker(s) gracefully (killed after 30 s)',
    options: { ...workspaceOption, node: { type: 'string' } },
    async run(ctx) {
      const nodeId = numberFlag(ctx, 'node');
      const result = await stack(ctx).down({ progress: ctx.progress, nodeId });
      if (result.stopped.length === 0) ctx.print('The local Kafka stack was not running.');
      else
        ctx.print(
          `Stopped Kafka node${result.stopped.length > 1 ? 's' : ''} ${result.stopped.join(', ')}${result.killed.length ? ` (killed after the grace period: ${result.killed.join(', ')})` : ''}.`,
        );
      return 0;
    },
  },
  'stack status': {
    usage: 'pipeline stack status [--json]',
    summary: 'address, version, node ids, topics and up/down of the local stack',
    options: { ...workspaceOption, json: { type: 'boolean' } },
    async run(ctx) {
      const status = await stack(ctx).status();
      if (ctx.values.json) {
        ctx.print(JSON.stringify(status, null, 2));
      } else {
        ctx.print(`Kafka ${status.version} (${status.mode === 'cluster3' ? 'three nodes' : 'one node'}): ${status.state.toUpperCase()}`);
        ctx.print(`  address:  ${status.bootstrapServers}`);
        for (const node of status.nodes)
          ctx.print(
            `  node ${node.id}:   ${node.address} ${node.running ? `running (pid ${node.pid})` : 'stopped'}${status.controller === node.id ? ' controller' : ''}`,
          );
        if (status.clusterId) ctx.print(`  cluster:  ${status.clusterId}`);
        if (status.state !== 'down') ctx.print(`  topics:   ${status.topics.join(', ') || '(none)'}`);
        if (status.message) ctx.print(`  note:     ${status.message}`);
        ctx.print(`  data:     ${status.dataDir}`);
      }
      return status.state === 'down' ? 3 : 0;
    },
  },
  'stack reset': {
    usage: 'pipeline stack reset [--brokers 1|3]',
    summary: 'delete the local broker data (the stack must be stopped)',
    options: { ...workspaceOption, brokers: { type: 'string' } },
    async run(ctx) {
      await stack(ctx).reset(brokersFlag(ctx.values.brokers) === 3 ? 'cluster3' : 'single', ctx.progress);
      ctx.print('Local Kafka data deleted; `pipeline stack up` starts a fresh broker.');
      return 0;
    },
  },
  'topic create': {
    usage:
      'pipeline topic create NAME --partitions N [--replication R] [--retention-ms MS] [--bootstrap-servers HOST:PORT] [--sasl-mechanism M --sasl-username U] [--tls] [--tls-ca-file FILE] [--allow-plaintext-sasl]',
    summary:
      'create a topic on any Kafka cluster (a SASL password from PIPELINE_SASL_PASSWORD or a 0600 file named by PIPELINE_SASL_PASSWORD_FILE)',
    options: {
      ...workspaceOption,
      ...bootstrapOption,
      ...securityOption,
      partitions: { type: 'string' },
      replication: { type: 'string' },
      'retention-ms': { type: 'string' },
    },
    positionals: 1,
    async run(ctx) {
      const name = ctx.positionals[0];
      if (!name) throw new UserError('Name the topic: pipeline topic create NAME --partitions N.');
      const client = adminOf(ctx);
      try {
        await client.createTopic({
          name,
          partitions: numberFlag(ctx, 'partitions', 1)!,
          replicationFactor: numberFlag(ctx, 'replication'),
          retentionMs: numberFlag(ctx, 'retention-ms'),
        });
      } finally {
        await client.close();
      }
      ctx.print(`Created topic ${name}.`);
      return 0;
    },
  },
  'topic list': {
    usage:
      'pipeline topic list [--json] [--bootstrap-servers HOST:PORT] [--sasl-mechanism M --sasl-username U] [--tls] [--tls-ca-file FILE] [--allow-plaintext-sasl]',
    summary: 'topics with partitions, replication and message counts',
    options: { ...workspaceOption, ...bootstrapOption, ...securityOption, json: { type: 'boolean' } },
    async run(ctx) {
      const client = adminOf(ctx);
      try {
        const topics = await client.listTopics();
        const rows = [];
        for (const topic of topics) {
          const offsets = await client.fetchPartitionOffsets(topic.name);
          rows.push({ ...topic, messages: offsets.reduce((sum, p) => sum + (p.high - p.low), 0), offsets });
        }
        if (ctx.values.json) ctx.print(JSON.stringify(rows, null, 2));
        else {
          ctx.print(`${'TOPIC'.padEnd(32)} ${'PARTITIONS'.padStart(10)} ${'REPLICAS'.padStart(8)} ${'MESSAGES'.padStart(12)}`);
          for (const r of rows)
            ctx.print(
              `${r.name.padEnd(32)} ${String(r.partitions).padStart(10)} ${String(r.replicationFactor).padStart(8)} ${String(r.messages).padStart(12)}`,
            );
        }
      } finally {
        await client.close();
      }
      return 0;
    },
  },
};
