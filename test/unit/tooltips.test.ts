import * as assert from 'node:assert/strict';
import { marked } from 'marked';
import { mdCode, mdFence, mdText } from '../../src/shared/markdown';
import { emptySnapshot, renderStatus } from '../../src/pipeline/statusModel';
import { summarizeLag } from '../../src/kafka/lag';
import { brokerTooltip, groupTooltip, topicTooltip } from '../../src/kafka/treeModel';

/**
 * Values that reach tooltips from outside — a broker's advertised host, a consumer group id, a Flink job's name, an
 * error text — rendered the way VS Code renders a MarkdownString (marked, GitHub flavour): each must show as its
 * characters, never as a link, an image, a heading or HTML.
 */
const HOSTILE =
  'evil` [click](command:kafkaFlinkLab.log.show) ![t](https://evil.example/t.png) <img src=x onerror=alert(1)>\n\n# big https://evil.example/x';

function render(markdown: string): string {
  return marked.parse(markdown, { async: false, gfm: true });
}

function links(html: string): string[] {
  return [...html.matchAll(/<a [^>]*href="([^"]*)"/g)].map((m) => m[1]);
}

function assertInert(html: string, allowedLinks: string[] = []): void {
  assert.deepEqual(links(html), allowedLinks, html);
  assert.ok(!/<img\b/.test(html), `no image: ${html}`);
  assert.ok(!/<h\d\b/.test(html), `no heading: ${html}`);
  // The hostile text is there, as text.
  assert.ok(html.includes('evil.example/t.png'), html);
}

describe('tooltips show values from Kafka and Flink as text', () => {
  it('the status bar tooltip (trusted with command links) keeps only its own three links', () => {
    const snapshot = emptySnapshot(HOSTILE, 'sensor-data', HOSTILE, HOSTILE);
    snapshot.broker = { state: 'up', address: HOSTILE, local: false, detail: HOSTILE };
    snapshot.job = { ...snapshot.job, phase: 'running', flinkState: HOSTILE, restReachable: true, name: HOSTILE, lagNote: HOSTILE };
    const html = render(renderStatus(snapshot).tooltip);
    assertInert(html, [
      'command:kafkaFlinkLab.pipeline.showActions',
      'command:kafkaFlinkLab.pipeline.refresh',
      'command:kafkaFlinkLab.log.show',
    ]);
  });

  it('Kafka view tooltips: a broker host, a consumer group id, a topic config', () => {
    assertInert(render(brokerTooltip({ nodeId: 1, host: HOSTILE, port: 9092, isController: true, rack: HOSTILE })));
    assertInert(
      render(
        groupTooltip(
          { groupId: HOSTILE, state: HOSTILE, members: 0, protocolType: '' },
          summarizeLag([{ topic: 't', partition: 0, committed: 1, end: 4, lag: 3 }]),
        ),
      ),
    );
    assertInert(
      render(topicTooltip({ name: 'sensor-data', internal: false, partitions: [], replicationFactor: 1, cleanupPolicy: HOSTILE })),
    );
  });

  it('plain values keep their code style; a fenced block cannot be closed from inside', () => {
    assert.equal(mdCode('sensor-data'), '`sensor-data`');
    assert.equal(render(mdText('a_b *c* [d](e)')).trim(), '<p>a_b *c* [d](e)</p>');
    const fenced = render(mdFence('line\n```\n[x](command:y)\n````'));
    assert.deepEqual(links(fenced), []);
    assert.ok(fenced.includes('[x](command:y)'));
  });
});
