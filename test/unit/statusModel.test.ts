import * as assert from 'node:assert/strict';
import { marked } from 'marked';
import { emptySnapshot, LAG_WARNING, renderStatus, type PipelineSnapshot } from '../../src/pipeline/statusModel';

function snapshot(patch: Partial<PipelineSnapshot> = {}, job: Partial<PipelineSnapshot['job']> = {}): PipelineSnapshot {
  const base = emptySnapshot('127.0.0.1:9092', 'sensor-data', 'http://127.0.0.1:8081', 'flink-sensor-processor');
  return {
    ...base,
    broker: { state: 'up', address: '127.0.0.1:9092', local: true, brokers: 1 },
    updatedAt: 1,
    ...patch,
    job: { ...base.job, ...job },
  };
}

/** The tooltip as the user reads it: the Markdown rendered, tags dropped. */
function shown(markdown: string): string {
  const html = marked.parse(markdown, { async: false, gfm: true });
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}

describe('status bar: broker, ingest rate, Flink job, lag', () => {
  it('a healthy running pipeline', () => {
    const r = renderStatus(
      snapshot({ ingestRate: 250, generator: 'running' }, { phase: 'running', flinkState: 'RUNNING', restReachable: true, lag: 42 }),
    );
    assert.equal(r.text, '$(database) Kafka up · 250 msg/s · $(zap) Flink RUNNING · lag 42');
    assert.equal(r.severity, 'ok');
    assert.match(r.tooltip, /Ingest\*\* into `sensor-data`: 250 msg\/s/);
    assert.match(r.tooltip, /42 records not yet processed/);
    assert.match(r.tooltip, /command:kafkaFlinkLab\.pipeline\.showActions/);
  });

  it('nothing running is not an error', () => {
    const r = renderStatus(snapshot({ broker: { state: 'down', address: '127.0.0.1:9092', local: true } }));
    assert.equal(r.text, '$(database) Kafka down · $(zap) Flink stopped');
    assert.equal(r.severity, 'ok');
  });

  it('errors: a failed job, a failed generator, Kafka down under a running pipeline', () => {
    assert.equal(renderStatus(snapshot({}, { phase: 'failed', flinkState: 'FAILED', restReachable: true })).severity, 'error');
    assert.equal(renderStatus(snapshot({ generator: 'failed' })).severity, 'error');
    const down = renderStatus(snapshot({ broker: { state: 'down', address: 'b:1', local: false }, generator: 'running' }));
    assert.equal(down.severity, 'error');
    assert.match(shown(down.tooltip), /Kafka at b:1 is down while the pipeline runs/);
  });

  it('warnings: a degraded broker, or lag above the threshold while the job runs', () => {
    assert.equal(renderStatus(snapshot({ broker: { state: 'degraded', address: 'x:1', local: true } })).severity, 'warning');
    assert.equal(renderStatus(snapshot({}, { phase: 'running', lag: LAG_WARNING })).severity, 'warning');
    assert.equal(renderStatus(snapshot({}, { phase: 'running', lag: LAG_WARNING - 1 })).severity, 'ok');
  });

  it('the job state comes from Flink when its REST API answers, else from the process', () => {
    assert.match(renderStatus(snapshot({}, { phase: 'starting', restReachable: false })).text, /Flink starting/);
    assert.match(renderStatus(snapshot({}, { phase: 'running', flinkState: 'RESTARTING', restReachable: true })).text, /Flink RESTARTING/);
    assert.match(
      shown(renderStatus(snapshot({}, { restReachable: false })).tooltip),
      /REST API at http:\/\/127\.0\.0\.1:8081 not reachable/,
    );
  });

  it('a job that keeps restarting: its restarts in the text, its exception (escaped) in the tooltip, an error colour', () => {
    const r = renderStatus(
      snapshot(
        {},
        {
          phase: 'starting',
          flinkState: 'RESTARTING',
          restReachable: true,
          restarting: true,
          restarts: 8,
          exception: { headline: 'KafkaException: timeout <b>[x](command:y)</b>', at: 1 },
          name: 'sensor-pipeline[sensor-data]',
        },
      ),
    );
    assert.equal(r.text, '$(database) Kafka up · – msg/s · $(zap) Flink RESTARTING · 8 restarts');
    assert.equal(r.severity, 'error');
    assert.match(
      r.tooltip,
      /The Flink job keeps restarting \(8 restarts\): KafkaException\\: timeout \\<b\\>\\\[x\\\]\\\(command\\:y\\\)\\<\\\/b\\>/,
    );
    assert.match(r.tooltip, /\*\*Flink job\*\* `sensor-pipeline\[sensor-data\]`: RESTARTING, 8 restarts/);
  });

  it('lag in time and the lag trend, with the note on why the record lag saws', () => {
    const trend = [0, 5000, 10_000, 15_000, 20_000].map((at, i) => ({ at, records: i % 2 ? 530 : 30, behindMs: 40 }));
    const r = renderStatus(
      snapshot(
        { lagTrend: trend },
        { phase: 'running', flinkState: 'RUNNING', restReachable: true, lag: 30, behindMs: 40, checkpointIntervalMs: 10_000 },
      ),
    );
    assert.match(r.tooltip, /30 records not yet processed; the job reads 0\.04 s behind/);
    assert.match(r.tooltip, /\*\*Lag trend\*\*, last 20 s: records `▁█▁█▁` · seconds behind `▁▁▁▁▁`/);
    assert.match(
      r.tooltip,
      /The record lag saws with the checkpoint interval: Flink commits the group's offsets to Kafka only when a checkpoint completes \(every 10 s\)/,
    );
    assert.equal(
      renderStatus(snapshot({ lagTrend: trend.slice(0, 1) }, { phase: 'running', lag: 30 })).tooltip.includes('Lag trend'),
      false,
      'no trend from one sample',
    );
  });
});
