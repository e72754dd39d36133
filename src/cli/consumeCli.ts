// `pipeline consume`: a plain member of a consumer group, to watch a group split a topic's partitions and rebalance.
import { createKafka, parseBootstrapServers } from '../kafka/kafkaClient';
import { jobGroupRefusal, rebalanceLine, recordLine, runGroupMember } from '../kafka/groupMember';
import { validateGroupId } from '../config/validation';
import { UserError } from '../shared/errors';
import { bootstrapOption, clusterOf, configOf, securityOption, workspaceOption, type CliCommand } from './context';

export const consumeCli: Record<string, CliCommand> = {
  consume: {
    usage:
      'pipeline consume --group G [--topic T] [--from earliest|latest] [--bootstrap-servers HOST:PORT] [--sasl-mechanism M --sasl-username U] [--tls] [--tls-ca-file FILE]',
    summary:
      "a plain member of consumer group G on the topic: prints each record with its partition and offset, and at each rebalance what this member owns, got and gave up; commits after each record; Ctrl-C leaves the group cleanly (its partitions go to the others at once). --from says where a partition without a committed offset starts. The Flink job's group is refused",
    options: {
      ...workspaceOption,
      ...bootstrapOption,
      ...securityOption,
      group: { type: 'string', short: 'g' },
      topic: { type: 'string' },
      from: { type: 'string' },
    },
    async run(ctx) {
      const group = ctx.values.group;
      if (typeof group !== 'string' || group === '') throw new UserError('Name the group: pipeline consume --group lab-consumers.');
      const invalid = validateGroupId(group);
      if (invalid) throw new UserError(invalid);
      const config = configOf(ctx);
      const refused = jobGroupRefusal(group, config.groupId().value);
      if (refused) throw new UserError(refused);
      const from = (ctx.values.from as string | undefined) ?? 'earliest';
      if (from !== 'earliest' && from !== 'latest') throw new UserError(`--from must be earliest or latest (got ${from}).`);
      const topic = config.topic().value;
      const cluster = clusterOf(ctx);
      const clientId = `pipeline-consume-${process.pid}`;
      const kafka = createKafka({
        bootstrapServers: parseBootstrapServers(cluster.bootstrapServers),
        clientId,
        requestTimeoutMs: 10_000,
        ...cluster.connection,
      });
      ctx.progress(
        `Joining consumer group ${group} on ${topic} at ${cluster.bootstrapServers} as ${clientId} (partitions without a committed offset start at the ${from === 'earliest' ? 'earliest' : 'latest'} record). Ctrl-C leaves the group.`,
      );
      let records = 0;
      // A closed terminal (SIGHUP) leaves the group as cleanly as Ctrl-C; its output then goes nowhere.
      const stop = new AbortController();
      const onHangUp = () => {
        process.stdout.on('error', () => undefined);
        process.stderr.on('error', () => undefined);
        stop.abort();
      };
      process.once('SIGHUP', onHangUp);
      ctx.signal.addEventListener('abort', () => stop.abort(), { once: true });
      try {
        await runGroupMember(
          kafka,
          { groupId: group, topic, fromBeginning: from === 'earliest', signal: stop.signal },
          {
            onRecord: (r) => {
              records++;
              ctx.print(recordLine(r));
            },
            onAssigned: (change) => ctx.print(rebalanceLine(topic, change)),
            onRebalancing: () => ctx.print('── rebalance: a member joined or left; the group is splitting the partitions again…'),
          },
        );
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        if (/does not host this topic-partition|UNKNOWN_TOPIC/i.test(text))
          throw new UserError(
            `Topic ${topic} does not exist at ${cluster.bootstrapServers}: create it, or name another with --topic.`,
            text,
          );
        throw error;
      } finally {
        process.off('SIGHUP', onHangUp);
      }
      ctx.print(`Left group ${group} after ${records} records: its partitions go to the other members.`);
      return 0;
    },
  },
};
