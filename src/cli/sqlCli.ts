// `pipeline sql`: Flink SQL through the SQL Gateway of the local session cluster, in a session that has the lab's tables; a folded table at the end, or one JSON object per change.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../shared/errors';
import { KafkaAdminClient } from '../kafka/kafkaAdmin';
import { parseBootstrapServers } from '../kafka/kafkaClient';
import { usesSasl } from '../kafka/clusterSecurity';
import { validatePositiveInt } from '../config/validation';
import { LAB_ALERTS_TOPIC, LAB_SOURCE_TABLES, LAB_TABLE_NAMES, type ReadMode } from '../flink/labTables';
import { kafkaSecurityOptions } from '../pipeline/kafkaTableSecurity';
import { LabSqlSession } from '../flink/sqlSession';
import { GatewayUnreachable, type SqlGatewayClient } from '../flink/sqlGatewayClient';
import { labTableWrite, splitStatements, statementKind, statementParts, type SqlStatement } from '../flink/sqlStatements';
import { CHANGE_OP, ChangelogTable, formatTable } from '../flink/sqlChangelog';
import { formatProblem, noFreeSlot, sqlProblem } from '../flink/sqlErrors';
import { clusterRestUrl, LocalFlinkCluster, DEFAULT_CLUSTER_SHAPE } from '../local/flinkCluster';
import { slotShortage } from '../flink/flinkRest';
import { chooseSqlGateway, LOCAL_SESSION_PROPERTIES, startSqlGateway } from '../local/sqlGateway';
import { ensurePythonEnv } from '../local/pythonEnv';
import { ensureJobRuntime } from '../local/flinkRuntime';
import {
  bootstrapOption,
  checkedNumber,
  clusterOf,
  configOf,
  securityOption,
  workspaceOption,
  type CliCommand,
  type CliContext,
} from './context';

/** The alerts topic the pipeline job writes (its `--alerts-topic` default). */

/** The statements to run: the argument or the file, split; a write to a lab table refuses the whole input before anything runs. */
function statementsOf(ctx: CliContext): { statements: SqlStatement[]; file?: string } {
  const file = ctx.values.file as string | undefined;
  const inline = ctx.positionals[0];
  if (file && inline) throw new UserError('Give the statement or --file, not both.');
  let source = inline;
  if (file) {
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      throw new UserError(`--file ${file} cannot be read.`);
    }
  }
  if (source === undefined) throw new UserError('Give a statement (pipeline sql "SELECT * FROM sensor_data") or --file F.');
  const statements = splitStatements(source);
  if (statements.length === 0) throw new UserError(`${file ?? 'The statement'} holds no statement.`);
  for (const s of statements) {
    const refusal = labTableWrite(s.text, [...LAB_TABLE_NAMES, ...LAB_SOURCE_TABLES]);
    if (refusal) throw new UserError(`${file ? `${file}:` : ''}${s.line}:${s.column}: ${refusal}`);
  }
  return { statements, file };
}

/**
 * The gateway to talk to: --gateway, PIPELINE_SQL_GATEWAY_URL or the setting flink.sqlGatewayUrl, else the local
 * one, started with its cluster when it does not run.
 */
async function gatewayOf(ctx: CliContext, securedCluster: boolean): Promise<{ client: SqlGatewayClient; local: boolean }> {
  const resolved = configOf(ctx).sqlGatewayUrl();
  const cluster = new LocalFlinkCluster(ctx.workspace);
  const choice = chooseSqlGateway(resolved, securedCluster, cluster);
  if (!choice.local) {
    await choice.client.info().catch((e: unknown) => {
      throw new UserError(
        `The SQL Gateway at ${choice.client.baseUrl} does not answer (${e instanceof Error ? e.message : e}): check the address (${resolved.label}), or leave it out to use the local one.`,
      );
    });
    return choice;
  }
  if (choice.client && (await choice.client.info().catch(() => undefined))) return { client: choice.client, local: true };
  ctx.progress(
    'No local SQL Gateway runs: starting the Flink session cluster and its SQL Gateway (as `pipeline flink up` does; `pipeline flink down` stops them)…',
  );
  const python = await ensurePythonEnv(ctx.progress);
  const runtime = await ensureJobRuntime(python, ctx.progress);
  await cluster.up(DEFAULT_CLUSTER_SHAPE, python, `${runtime.runtimeDir}/lib`, ctx.progress, ctx.signal);
  await startSqlGateway(cluster, python, `${runtime.runtimeDir}/lib`, ctx.progress, process.env, ctx.signal);
  // The credentials are read after the start: the first start makes them.
  const started = chooseSqlGateway(resolved, securedCluster, cluster);
  if (!started.client) throw new UserError(`The local SQL Gateway did not start: see ${cluster.logDir}.`);
  return { client: started.client, local: true };
}

/** The end offsets of each partition now: where a bounded statement stops. */
async function endOffsets(admin: KafkaAdminClient, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchPartitionOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

export const sqlCli: Record<string, CliCommand> = {
  sql: {
    usage: 'pipeline sql [STATEMENT] [--file F] [--topic T] [--bounded] [--from earliest|latest] [--limit N] [--json] [--gateway URL]',
    summary:
      "Flink SQL through the SQL Gateway of the local session cluster (started when none runs); the session has sensor_data (the topic's good events with event_time, its watermark and kafka_partition/offset/timestamp), sensor_alerts and aggregates, all read-only; --bounded stops at the end offsets of now; --json prints one object per change with op (+I -U +U -D)",
    options: {
      ...workspaceOption,
      ...bootstrapOption,
      ...securityOption,
      file: { type: 'string' },
      topic: { type: 'string' },
      bounded: { type: 'boolean' },
      from: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      gateway: { type: 'string' },
      output: { type: 'string' },
    },
    positionals: 1,
    async run(ctx) {
      const { statements, file } = statementsOf(ctx);
      const from = (ctx.values.from as string | undefined) ?? 'earliest';
      if (from !== 'earliest' && from !== 'latest') throw new UserError(`--from must be earliest or latest (got ${from}).`);
      const limit = checkedNumber(ctx, 'limit', (v) => validatePositiveInt(v, '--limit', 1_000_000));
      const config = configOf(ctx);
      const cluster = clusterOf(ctx);
      const kafkaSecurity = kafkaSecurityOptions(
        cluster.security,
        (cluster.connection.sasl as { password?: string } | undefined)?.password,
      );
      const topic = config.topic().value;
      const output = config.outputFolder().value;
      const aggregatesDir = join(output, 'aggregates');
      mkdirSync(aggregatesDir, { recursive: true });

      const mode: ReadMode = { from };
      if (ctx.values.bounded) {
        const admin = new KafkaAdminClient(
          { bootstrapServers: parseBootstrapServers(cluster.bootstrapServers), ...cluster.connection },
          15_000,
        );
        try {
          mode.boundedAt = { sensorData: await endOffsets(admin, topic), alerts: await endOffsets(admin, LAB_ALERTS_TOPIC) };
        } catch (error) {
          throw new UserError(
            `--bounded reads the end offsets of ${topic} first, and Kafka at ${cluster.bootstrapServers} did not answer: start it with \`pipeline stack up\`.`,
            String(error),
          );
        } finally {
          await admin.close();
        }
      }
      // A secured cluster's settings go into the session's table options (its CA file's path, its SASL password, as
      // the pipeline job's tables carry them): only to the local gateway, whose cluster runs the pipeline job too.
      const secured = cluster.security.tls || usesSasl(cluster.security);
      const { client, local } = await gatewayOf(ctx, secured).catch((error) => {
        if (error instanceof GatewayUnreachable)
          throw new UserError(`The SQL Gateway does not answer (${error.message}): run \`pipeline flink up\`.`);
        throw error;
      });
      const session = new LabSqlSession(
        client,
        {
          topic,
          alertsTopic: LAB_ALERTS_TOPIC,
          bootstrapServers: cluster.bootstrapServers,
          aggregatesDir,
          groupId: `kafka-flink-lab-sql-${process.pid}`,
          kafkaSecurity,
        },
        local ? LOCAL_SESSION_PROPERTIES : {},
      );
      let code = 0;
      try {
        // A BEGIN STATEMENT SET … END goes part by part on the session, as Flink's SQL client sends it; END submits the job.
        for (const part of statements.flatMap(statementParts)) {
          code = await runStatement(ctx, session, part, mode, {
            limit,
            json: ctx.values.json === true,
            file,
            restUrl: local ? clusterRestUrl() : undefined,
          });
          if (code !== 0) break;
        }
      } finally {
        await session.close();
      }
      return code;
    },
  },
};

async function runStatement(
  ctx: CliContext,
  session: LabSqlSession,
  statement: SqlStatement,
  mode: ReadMode,
  options: { limit?: number; json: boolean; file?: string; restUrl?: string },
): Promise<number> {
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  ctx.signal.addEventListener('abort', onInterrupt, { once: true });
  let columns: string[] = [];
  let isQuery = false;
  let table: ChangelogTable | undefined;
  let received = 0;
  let lastWaitNote = 0;
  let slotsChecked = false;
  /** SET, CREATE, DROP…: Flink answers a one-cell table saying OK, which is said on stderr, not printed as a result. */
  const okAnswer = () => !isQuery && columns.length === 1 && columns[0] === 'result';
  try {
    const outcome = await session.run(
      statement.text,
      mode,
      {
        onColumns(cols, query) {
          isQuery = query;
          columns = cols.map((c) => c.name);
          table = new ChangelogTable(columns);
        },
        onRows(rows) {
          for (const row of rows) {
            if (options.limit !== undefined && received >= options.limit) break;
            received++;
            table?.apply(row);
            if (options.json && !okAnswer())
              ctx.print(JSON.stringify(Object.fromEntries([['op', CHANGE_OP[row.kind]], ...columns.map((c, i) => [c, row.fields[i]])])));
          }
          if (options.limit !== undefined && received >= options.limit) stop.abort();
        },
        onWaiting(seconds, jobId) {
          if (seconds - lastWaitNote < 3) return;
          lastWaitNote = seconds;
          ctx.progress(`Waiting for the first result: ${Math.round(seconds)} s${jobId ? ` (Flink job ${jobId})` : ''}…`);
          if (options.restUrl && !slotsChecked) {
            slotsChecked = true;
            void slotShortage(options.restUrl, jobId).then((total) => {
              if (total !== undefined) ctx.progress(noFreeSlot(total, 'Ctrl-C where it runs'));
            });
          }
        },
      },
      stop.signal,
    );
    if (outcome.end === 'error') {
      ctx.progress(formatProblem(sqlProblem(outcome.errors, statement), options.file));
      return 1;
    }
    const rows = table?.rows() ?? [];
    if (okAnswer() && rows.length === 1 && rows[0][0] === 'OK') {
      ctx.progress(`${statement.line}:${statement.column}: ${statementKind(statement.text)} OK`);
    } else if (!options.json && table) {
      for (const line of formatTable(columns, table.rows())) ctx.print(line);
      const { counts, unmatched } = table;
      const changes = Object.entries(counts).filter(([, n]) => n > 0);
      const why = ctx.signal.aborted
        ? 'stopped (Ctrl-C)'
        : outcome.end === 'stopped'
          ? `stopped at --limit ${options.limit}`
          : 'end of results';
      ctx.progress(
        `${table.rows().length} row${table.rows().length === 1 ? '' : 's'}; ${why}${changes.length ? `; changes ${changes.map(([op, n]) => `${op} ${n}`).join(', ')}` : ''}${unmatched ? `; ${unmatched} retractions matched no row` : ''}.`,
      );
    }
    return ctx.signal.aborted ? 130 : 0;
  } finally {
    ctx.signal.removeEventListener('abort', onInterrupt);
  }
}
