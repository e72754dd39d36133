// The editor's completion on a catalog recorded from Flink 2.2.1's SQL Gateway (SHOW TABLES, DESCRIBE of each lab table).
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog, suggestions, tablesIn } from '../../src/flink/sqlCatalog';
import type { LabSqlSession, StatementEvents, StatementOutcome } from '../../src/flink/sqlSession';

const recorded = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'test', 'fixtures', 'sql-catalog', 'catalog.json'), 'utf8')) as {
  answers: Record<string, unknown[][]>;
};

/** Answers each catalog statement with its recorded rows, as the gateway sent them (inserts); records what was asked. */
function recordedSession(): Pick<LabSqlSession, 'run'> & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    run: async (statement: string, _mode: unknown, events: StatementEvents): Promise<StatementOutcome> => {
      asked.push(statement);
      const rows = recorded.answers[statement];
      if (!rows) return { end: 'error', errors: [`not recorded: ${statement}`] };
      events.onRows?.(rows.map((fields) => ({ kind: 'INSERT', fields })));
      return { end: 'eos' };
    },
  };
}

describe("the editor's completion on the session's catalog", () => {
  it("loads the session's tables and their columns, leaving out the lab's hidden sources", async () => {
    const session = recordedSession();
    const catalog = await loadCatalog(session, { from: 'earliest' });
    assert.deepEqual([...catalog.keys()], ['aggregates', 'sensor_alerts', 'sensor_data']);
    assert.deepEqual(session.asked, ['SHOW TABLES', 'DESCRIBE `aggregates`', 'DESCRIBE `sensor_alerts`', 'DESCRIBE `sensor_data`']);
    const data = catalog.get('sensor_data')!;
    assert.deepEqual(
      data.map((c) => c.name),
      [
        'event_id',
        'sensor_id',
        'ts',
        'temperature',
        'humidity',
        'pressure',
        'battery',
        'seq',
        'event_time',
        'kafka_partition',
        'kafka_offset',
        'kafka_timestamp',
      ],
    );
    assert.match(data.find((c) => c.name === 'event_time')!.type, /^TIMESTAMP_LTZ\(3\)/);
  });

  it('after FROM or JOIN offers the tables; elsewhere the columns of the tables the statement reads, then the tables', async () => {
    const catalog = await loadCatalog(recordedSession(), { from: 'earliest' });
    const labels = (before: string, whole = before) => suggestions(before, whole, catalog).map((s) => `${s.kind}:${s.label}`);
    assert.deepEqual(labels('SELECT * FROM sen'), ['table:aggregates', 'table:sensor_alerts', 'table:sensor_data']);
    const alerts = labels('SELECT ', 'SELECT  FROM sensor_alerts');
    assert.deepEqual(alerts.slice(0, 5), ['column:event_id', 'column:sensor_id', 'column:ts', 'column:temperature', 'column:reason']);
    assert.ok(!alerts.includes('column:humidity'), 'no column of a table the statement does not read');
    assert.deepEqual(alerts.slice(-3), ['table:aggregates', 'table:sensor_alerts', 'table:sensor_data']);
    const joined = labels('SELECT a.', 'SELECT a. FROM sensor_alerts AS a JOIN `sensor_data` AS d ON d.event_id = a.event_id');
    assert.ok(joined.includes('column:reason') && joined.includes('column:humidity'), 'both sides of a join');
    assert.equal(joined.filter((l) => l === 'column:event_id').length, 1, 'a column both tables have, once');
    assert.deepEqual(
      suggestions('SELECT ', 'SELECT  FROM sensor_data', catalog).find((s) => s.label === 'event_time')?.detail,
      'TIMESTAMP_LTZ(3) *ROWTIME* · sensor_data',
    );
  });

  it('finds the tables a statement reads, quoted or not, in any case, each once', async () => {
    const catalog = await loadCatalog(recordedSession(), { from: 'earliest' });
    assert.deepEqual(
      tablesIn(
        "SELECT * FROM TABLE(TUMBLE(TABLE Sensor_Data, DESCRIPTOR(event_time), INTERVAL '1' MINUTE)) JOIN `aggregates` ON 1=1 JOIN sensor_data",
        catalog,
      ),
      ['sensor_data', 'aggregates'],
    );
    assert.deepEqual(tablesIn('SELECT 1 FROM unknown_table', catalog), []);
  });
});
