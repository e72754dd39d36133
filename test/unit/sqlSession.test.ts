import * as assert from 'node:assert/strict';
import { GatewayError, type ResultPage, type SqlGatewayClient } from '../../src/flink/sqlGatewayClient';
import { LabSqlSession } from '../../src/flink/sqlSession';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFlinkCluster } from '../../src/local/flinkCluster';
import { chooseSqlGateway } from '../../src/local/sqlGateway';
import { gatewayProblem } from '../../src/flink/sqlGatewayClient';
import { labTableStatements, scanOptions, type LabTableOptions } from '../../src/flink/labTables';
import { kafkaSecurityOptions } from '../../src/pipeline/kafkaTableSecurity';
import { NO_SECURITY, type ClusterSecurity } from '../../src/kafka/clusterSecurity';

const TABLES: LabTableOptions = {
  topic: 'sensor-data',
  alertsTopic: 'sensor-alerts',
  bootstrapServers: '127.0.0.1:9092',
  aggregatesDir: '/ws/output/aggregates',
  groupId: 'lab-sql',
};

/**
 * A gateway that keeps sessions and answers each statement with one page of rows, then EOS. `expire()` forgets every
 * session, as the gateway does after its idle timeout or a restart.
 */
class FakeGateway {
  sessions = new Set<string>();
  opened = 0;
  submitted: { session: string; statement: string }[] = [];
  closedOperations: string[] = [];
  private pages = new Map<string, ResultPage[]>();

  expire() {
    this.sessions.clear();
  }

  private gone(session: string): never {
    throw new GatewayError(500, [
      'Internal server error.',
      `org.apache.flink.table.gateway.api.utils.SqlGatewayException: Session '${session}' does not exist.`,
    ]);
  }

  asClient(): SqlGatewayClient {
    return {
      openSession: async () => {
        const id = `00000000-0000-0000-0000-00000000000${++this.opened}`;
        this.sessions.add(id);
        return id;
      },
      heartbeat: async () => ({}),
      closeSession: async (s: string) => this.sessions.delete(s),
      submit: async (session: string, statement: string) => {
        if (!this.sessions.has(session)) this.gone(session);
        const op = `op-${this.submitted.length}`;
        this.submitted.push({ session, statement });
        if (statement === 'SHOW JOBS') {
          this.pages.set(op, [
            {
              resultType: 'PAYLOAD',
              isQueryResult: false,
              results: {
                columns: ['job id', 'job name', 'status', 'start time'].map((name) => ({ name, logicalType: { type: 'VARCHAR' } })),
                data: [
                  {
                    kind: 'INSERT',
                    fields: [
                      '709c2ad1fe31c749a0ad7c654f70d768',
                      'insert-into_default_catalog.default_database.b',
                      'RUNNING',
                      '2026-12-06T23:41:38.249Z',
                    ],
                  },
                ],
              },
            },
          ]);
          return op;
        }
        this.pages.set(op, [
          // A query's first page is not ready yet; the lab's DDL answers at once.
          ...(statement.startsWith('SELECT') ? [{ resultType: 'NOT_READY' as const, nextResultUri: `/v4/${op}/1` }] : []),
          {
            resultType: 'PAYLOAD',
            isQueryResult: true,
            jobID: 'job-1',
            results: { columns: [{ name: 'n', logicalType: { type: 'BIGINT' } }], data: [{ kind: 'INSERT', fields: [1] }] },
            nextResultUri: `/v4/${op}/2`,
          },
          // A live query: a later page may be empty while it waits for more of the stream.
          ...(statement.startsWith('SELECT *')
            ? [{ resultType: 'PAYLOAD' as const, results: { data: [] }, nextResultUri: `/v4/${op}/3` }]
            : []),
          { resultType: 'EOS' },
        ]);
        return op;
      },
      fetch: async (session: string, op: string) => {
        if (!this.sessions.has(session)) this.gone(session);
        return this.pages.get(op)!.shift()!;
      },
      closeOperation: async (_s: string, op: string) => this.closedOperations.push(op),
    } as unknown as SqlGatewayClient;
  }
}

describe('a SQL session that knows the lab', () => {
  it('opens once, defines the lab tables, runs a statement to its end and closes its operation', async () => {
    const gateway = new FakeGateway();
    const session = new LabSqlSession(gateway.asClient(), TABLES, {});
    const rows: unknown[][] = [];
    const outcome = await session.run(
      'SELECT 1',
      { from: 'earliest' },
      { onRows: (r) => rows.push(...r.map((x) => x.fields)) },
      new AbortController().signal,
    );
    assert.deepEqual([outcome.end, outcome.jobId, rows], ['eos', 'job-1', [[1]]]);
    const ddl = labTableStatements(TABLES, { from: 'earliest' });
    assert.deepEqual(
      gateway.submitted.map((s) => s.statement),
      [...ddl, 'SELECT 1'],
    );
    assert.ok(gateway.closedOperations.includes(`op-${ddl.length}`), 'the statement’s operation is closed');
  });

  it('lists the cluster’s jobs and stops one through the gateway, without defining the lab tables; a job id is checked before it goes into SQL', async () => {
    const gateway = new FakeGateway();
    const session = new LabSqlSession(gateway.asClient(), TABLES, {});
    assert.deepEqual(await session.jobs(), [
      { id: '709c2ad1fe31c749a0ad7c654f70d768', name: 'insert-into_default_catalog.default_database.b', status: 'RUNNING' },
    ]);
    await session.stopJob('709c2ad1fe31c749a0ad7c654f70d768');
    await assert.rejects(session.stopJob("x'; DROP TABLE sensor_data; --"), /not a Flink job id/);
    assert.deepEqual(
      gateway.submitted.map((s) => s.statement),
      ['SHOW JOBS', "STOP JOB '709c2ad1fe31c749a0ad7c654f70d768'"],
    );
    await session.close();
  });

  it('two statements at once (a run and the completion catalog, or two runs) share one session and its tables, defined once', async () => {
    const gateway = new FakeGateway();
    const session = new LabSqlSession(gateway.asClient(), TABLES, {});
    const live = { from: 'earliest' } as const;
    const outcomes = await Promise.all(
      ['SELECT 1', 'SELECT 2', 'SELECT 3'].map((sql) => session.run(sql, live, {}, new AbortController().signal)),
    );
    assert.deepEqual(
      outcomes.map((o) => o.end),
      ['eos', 'eos', 'eos'],
    );
    assert.equal(gateway.opened, 1, 'one session opened');
    const ddl = labTableStatements(TABLES, live);
    assert.deepEqual(
      gateway.submitted.map((s) => s.statement).filter((s) => !s.startsWith('SELECT')),
      ddl,
      'the tables defined once, in order',
    );
    await session.close();
  });

  it('an expired session is reopened with the same tables and the statement submitted again, once', async () => {
    const gateway = new FakeGateway();
    const session = new LabSqlSession(gateway.asClient(), TABLES, {});
    const signal = new AbortController().signal;
    await session.run('SELECT 1', { from: 'earliest' }, {}, signal);
    gateway.expire();
    const outcome = await session.run('SELECT 2', { from: 'earliest' }, {}, signal);
    assert.equal(outcome.end, 'eos');
    assert.equal(gateway.opened, 2);
    const second = gateway.submitted.filter((s) => s.session === session.sessionHandle).map((s) => s.statement);
    assert.deepEqual(second, [...labTableStatements(TABLES, { from: 'earliest' }), 'SELECT 2']);
  });

  it('a session lost again right after reopening is an error, not a loop', async () => {
    const gateway = new FakeGateway();
    const client = gateway.asClient();
    const session = new LabSqlSession(
      { ...client, openSession: async () => '11111111-2222-3333-4444-555555555555' } as unknown as SqlGatewayClient,
      TABLES,
      {},
    );
    await assert.rejects(
      session.run('SELECT 1', { from: 'earliest' }, {}, new AbortController().signal),
      (e: unknown) => e instanceof GatewayError && e.sessionGone,
    );
  });

  it('a new read mode re-defines the tables: bounded at the given offsets, then unbounded again', async () => {
    const gateway = new FakeGateway();
    const session = new LabSqlSession(gateway.asClient(), TABLES, {});
    const signal = new AbortController().signal;
    const bounded = {
      from: 'earliest' as const,
      boundedAt: {
        sensorData: new Map([
          [0, 42],
          [1, 7],
        ]),
        alerts: new Map<number, number>(),
      },
    };
    await session.run('SELECT 1', bounded, {}, signal);
    await session.run('SELECT 2', bounded, {}, signal);
    await session.run('SELECT 3', { from: 'latest' }, {}, signal);
    const statements = gateway.submitted.map((s) => s.statement);
    assert.equal(
      statements.filter((s) => s.startsWith('CREATE TEMPORARY TABLE `_sensor_data_source`')).length,
      2,
      'defined for the first mode and again for the second, not for the same one',
    );
    assert.match(
      statements.find((s) => s.includes('_sensor_data_source') && s.startsWith('CREATE'))!,
      /'scan.bounded.specific-offsets' = 'partition:0,offset:42;partition:1,offset:7'/,
    );
    assert.deepEqual(scanOptions({ from: 'latest' }), { 'scan.startup.mode': 'latest-offset' });
    assert.deepEqual(scanOptions({ from: 'earliest', boundedAt: { sensorData: new Map(), alerts: new Map() } }), {
      'scan.startup.mode': 'earliest-offset',
      'scan.bounded.mode': 'latest-offset',
    });
  });

  it('inside BEGIN STATEMENT SET … END no operation is closed before END has run (Flink’s END fails on closed parts)', async () => {
    const gateway = new FakeGateway();
    const session = new LabSqlSession(gateway.asClient(), TABLES, {});
    const signal = new AbortController().signal;
    const parts = ['BEGIN STATEMENT SET', 'INSERT INTO a SELECT * FROM sensor_data', 'INSERT INTO b SELECT * FROM sensor_data'];
    for (const part of parts) await session.run(part, { from: 'earliest' }, {}, signal);
    const first = gateway.submitted.length - parts.length;
    const ops = parts.map((_, i) => `op-${first + i}`);
    assert.deepEqual(
      gateway.closedOperations.filter((o) => ops.includes(o)),
      [],
      'the parts are still open',
    );
    await session.run('END', { from: 'earliest' }, {}, signal);
    assert.deepEqual(gateway.closedOperations.slice(-4).sort(), [...ops, `op-${first + 3}`].sort(), 'END closes them, and its own');
    await session.run('SELECT 1', { from: 'earliest' }, {}, signal);
    assert.equal(gateway.closedOperations.at(-1), `op-${first + 4}`, 'after the set, operations close as they end again');
  });

  it('says it waits only before the first rows: an empty page of a live stream later is not "waiting for the first result"', async () => {
    const gateway = new FakeGateway();
    const session = new LabSqlSession(gateway.asClient(), TABLES, {});
    const seen: string[] = [];
    await session.run(
      'SELECT * FROM sensor_data',
      { from: 'earliest' },
      { onRows: () => seen.push('rows'), onWaiting: () => seen.push('waiting') },
      new AbortController().signal,
    );
    assert.deepEqual(seen, ['waiting', 'rows']);
  });

  it('names the job as soon as the gateway does, also when that page already brings rows (no empty page first)', async () => {
    const gateway = new FakeGateway();
    const session = new LabSqlSession(gateway.asClient(), TABLES, {});
    const seen: string[] = [];
    const outcome = await session.run(
      'SELECT * FROM sensor_data',
      { from: 'earliest' },
      { onJob: (id) => seen.push(`job ${id}`), onRows: () => seen.push('rows') },
      new AbortController().signal,
    );
    assert.deepEqual(seen, ['job job-1', 'rows']);
    assert.equal(outcome.jobId, 'job-1');
  });

  it('stops at the caller’s signal and still closes the operation (which cancels a streaming statement’s job)', async () => {
    const gateway = new FakeGateway();
    const session = new LabSqlSession(gateway.asClient(), TABLES, {});
    const stop = new AbortController();
    const outcome = await session.run('SELECT * FROM sensor_data', { from: 'earliest' }, { onRows: () => stop.abort() }, stop.signal);
    assert.equal(outcome.end, 'stopped');
    assert.equal(gateway.closedOperations.at(-1), `op-${gateway.submitted.length - 1}`);
  });
});

describe('the SQL Gateway a statement may go to', () => {
  const LABELS = {
    flag: '--gateway',
    environment: 'PIPELINE_SQL_GATEWAY_URL',
    user: 'kafkaFlinkLab.flink.sqlGatewayUrl (user settings)',
    workspace: 'kafkaFlinkLab.flink.sqlGatewayUrl in .vscode/settings.json',
  };
  const given = (value: string, origin: keyof typeof LABELS = 'flag') => ({ value, origin, label: LABELS[origin] });

  it('another machine only over https and only when the user named it; this machine over http too', () => {
    assert.equal(gatewayProblem(given('https://gateway.example:8083')), undefined);
    assert.equal(gatewayProblem(given('http://127.0.0.1:8083')), undefined);
    assert.match(gatewayProblem(given('http://gateway.example:8083'))!, /only over https/);
    assert.match(
      gatewayProblem(given('https://gateway.example:8083', 'workspace'))!,
      /comes from kafkaFlinkLab\.flink\.sqlGatewayUrl in \.vscode\/settings\.json: SQL goes to another machine only when you name it/,
    );
    assert.equal(gatewayProblem(given('https://gateway.example:8083', 'environment')), undefined);
    assert.equal(gatewayProblem(given('https://gateway.example:8083', 'user')), undefined);
    assert.equal(gatewayProblem(given('https://127.0.0.1:8083', 'workspace')), undefined);
    assert.match(gatewayProblem(given('gateway.example:8083'))!, /is not a URL/);
  });

  it('one choice for the editor and `pipeline sql`: a named gateway under that rule and never with a secured cluster; else the local one, when it runs', () => {
    const cluster = new LocalFlinkCluster(mkdtempSync(join(tmpdir(), 'sql-gateway-choice-')));
    const named = chooseSqlGateway(given('https://gateway.example:8083'), false, cluster);
    assert.deepEqual([named.local, named.client?.baseUrl], [false, 'https://gateway.example:8083']);
    assert.throws(() => chooseSqlGateway(given('https://gateway.example:8083', 'workspace'), false, cluster), /never because a workspace/);
    assert.throws(
      () => chooseSqlGateway(given('https://gateway.example:8083'), true, cluster),
      /A secured cluster's settings \(its CA file, its SASL password\) go only to the local SQL Gateway; the gateway https:\/\/gateway\.example:8083 comes from --gateway/,
    );
    const local = chooseSqlGateway(given(''), true, cluster);
    assert.deepEqual([local.local, local.client], [true, undefined], 'no local gateway runs in an empty workspace');
  });
});

describe("the lab tables on a secured cluster: the pipeline job's Kafka options", () => {
  const security = (o: Partial<ClusterSecurity>): ClusterSecurity => ({ ...NO_SECURITY, ...o });

  it('nothing for plaintext; SSL with the CA as a PEM truststore; SASL with the shaded login module and the password quoted', () => {
    assert.deepEqual(kafkaSecurityOptions(NO_SECURITY), {});
    assert.deepEqual(kafkaSecurityOptions(security({ tls: true, caFile: '/ca/ca.pem' })), {
      'properties.security.protocol': 'SSL',
      'properties.ssl.truststore.type': 'PEM',
      'properties.ssl.truststore.location': '/ca/ca.pem',
    });
    const sasl = kafkaSecurityOptions(security({ tls: true, mechanism: 'scram-sha-512', username: 'alice' }), 'p"a\\ss');
    assert.deepEqual(sasl, {
      'properties.security.protocol': 'SASL_SSL',
      'properties.sasl.mechanism': 'SCRAM-SHA-512',
      'properties.sasl.jaas.config':
        'org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\\"a\\\\ss";',
    });
    assert.equal(
      kafkaSecurityOptions(security({ mechanism: 'plain', username: 'bob', allowPlaintextSasl: true }), 'x')[
        'properties.security.protocol'
      ],
      'SASL_PLAINTEXT',
    );
    assert.throws(() => kafkaSecurityOptions(security({ mechanism: 'plain', username: 'bob' })), /password/);
  });

  it('every Kafka table of the session carries them, the filesystem table none', () => {
    const options = kafkaSecurityOptions(security({ tls: true, mechanism: 'plain', username: 'alice' }), 'secret');
    const ddl = labTableStatements({ ...TABLES, kafkaSecurity: options }, { from: 'earliest' }).filter((s) =>
      s.startsWith('CREATE TEMPORARY TABLE'),
    );
    assert.deepEqual(
      ddl.map((s) => [/`(\w+)`/.exec(s)![1], s.includes("'properties.security.protocol' = 'SASL_SSL'"), s.includes('password="secret"')]),
      [
        ['_sensor_data_source', true, true],
        ['_sensor_alerts_source', true, true],
        ['_aggregates_files', false, false],
      ],
    );
  });
});
