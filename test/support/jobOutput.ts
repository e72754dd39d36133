// What the secured-cluster tests check of a job's run: every event counted once in its committed files, and its alerts read back from Kafka.
import * as assert from 'node:assert/strict';
import { createKafka, type ConnectionOptions } from '../../src/kafka/kafkaClient';
import { pollUntil } from '../../src/local/proc';
import { ResultsStore } from '../../src/results';

/**
 * Waits until `events` are committed in `output` (aggregated or dead letters), holds the run to exactly that count
 * and a clean verify, and returns the number of alert rows (some anomalies are expected). `source` names the
 * listener in the messages.
 */
export async function countedOnce(output: string, events: number, source: string): Promise<{ counted: number; alertRows: number }> {
  const store = await ResultsStore.open(output);
  try {
    const counted = await pollUntil(
      async () => {
        await store.refresh();
        const n = Number(
          (await store.query('SELECT (SELECT coalesce(sum(event_count), 0) FROM aggregates) + (SELECT count(*) FROM dead_letter)'))
            .rows[0][0],
        );
        return n >= events ? n : undefined;
      },
      240_000,
      2000,
    );
    assert.equal(counted, events, `all events aggregated from the ${source} source`);
    const report = await store.verify(events);
    assert.ok(report.ok, report.problems.join('; '));
    const alertRows = Number((await store.query('SELECT count(*) FROM alerts')).rows[0][0]);
    assert.ok(alertRows > 0, 'some anomalies');
    return { counted, alertRows };
  } finally {
    store.close();
  }
}

/** The alerts on `sensor-alerts` (read committed: the sink writes in transactions) hold the `alertRows` the files hold. */
export async function alertsReadBack(connection: ConnectionOptions, alertRows: number, source: string): Promise<void> {
  const consumer = createKafka(connection).consumer({ groupId: `it-alerts-${Date.now()}`, readUncommitted: false });
  const seen = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'sensor-alerts', fromBeginning: true });
    void consumer.run({ eachMessage: async ({ message }) => void seen.add(JSON.parse(message.value!.toString()).event_id) });
    await pollUntil(async () => (seen.size >= alertRows ? true : undefined), 60_000, 500);
  } finally {
    await consumer.disconnect();
  }
  assert.equal(seen.size, alertRows, `the alerts topic on the ${source} listener holds the alerts`);
}
