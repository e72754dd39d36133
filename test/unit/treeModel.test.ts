import * as assert from 'node:assert/strict';
import { summarizeLag } from '../../src/kafka/lag';
import {
  brokerDescription,
  brokerLabel,
  contextValueOf,
  formatRetention,
  groupDescription,
  groupPartitionDescription,
  partitionDescription,
  partitionLabel,
  partitionTooltip,
  topicDescription,
  topicTooltip,
} from '../../src/kafka/treeModel';

const partition = { partition: 0, leader: 1, replicas: [1], isr: [1], offlineReplicas: [], low: 0, high: 1234 };

describe('Kafka explorer rows', () => {
  it('broker: "broker 1" · address · controller (and rack)', () => {
    const b = { nodeId: 1, host: '127.0.0.1', port: 9092, isController: true };
    assert.equal(brokerLabel(b), 'broker 1');
    assert.equal(brokerDescription(b), '127.0.0.1:9092 · controller');
    assert.equal(brokerDescription({ ...b, nodeId: 2, isController: false, rack: 'r1' }), '127.0.0.1:9092 · rack r1');
  });

  it('topic: partitions · messages · retention', () => {
    const t = {
      name: 'sensor-data',
      internal: false,
      partitions: [partition, partition, partition],
      replicationFactor: 1,
      retentionMs: 604_800_000,
      cleanupPolicy: 'delete',
      messages: 1234,
    };
    assert.equal(topicDescription(t), '3 partitions · 1234 msgs · retention 7 d');
    assert.equal(
      topicDescription({ ...t, partitions: [partition], messages: undefined, retentionMs: -1 }),
      '1 partition · retention forever',
    );
    assert.equal(topicDescription({ ...t, retentionMs: undefined, cleanupPolicy: 'compact' }), '3 partitions · 1234 msgs · compacted');
    assert.match(topicTooltip(t), /3 partitions\*\*: the topic is split/);
    assert.match(topicTooltip(t), /retention 7 d\*\*: records older than this are deleted/);
  });

  it('partition: offsets low–high · count · leader · replicas · ISR', () => {
    assert.equal(partitionLabel(partition), 'partition 0');
    assert.equal(partitionDescription(partition), 'offsets 0–1234 · 1234 msgs · leader 1 · replicas 1 · ISR 1');
    assert.equal(
      partitionDescription({ ...partition, low: 34, leader: 2, replicas: [1, 2, 3], isr: [2, 3] }),
      'offsets 34–1234 · 1200 msgs · leader 2 · replicas 1,2,3 · ISR 2,3 · under-replicated',
    );
    assert.match(partitionDescription({ ...partition, leader: -1 }), /no leader/);
    assert.match(partitionTooltip('sensor-data', partition), /high offset 1234\*\*: the high watermark/);
  });

  it('consumer group: state · members · lag, and the Flink job’s group', () => {
    const g = { groupId: 'flink-sensor-processor', state: 'Empty', protocolType: 'consumer', members: 0 };
    const lag = summarizeLag([{ topic: 'sensor-data', partition: 0, committed: 10, end: 15, lag: 5 }]);
    assert.equal(groupDescription(g, lag, { isFlinkGroup: true }), 'Empty · 0 members · lag 5 · Flink job');
    assert.equal(
      groupDescription(g, summarizeLag([{ topic: 'sensor-data', partition: 0, end: 15 }])),
      'Empty · 0 members · no committed offsets yet',
    );
    assert.equal(groupPartitionDescription({ topic: 's', partition: 0, committed: 10, end: 15, lag: 5 }), 'committed 10 · end 15 · lag 5');
    assert.equal(groupPartitionDescription({ topic: 's', partition: 1, end: 15 }), 'no committed offset yet · end 15');
  });

  it('retention and contextValue formatting', () => {
    assert.equal(formatRetention(3_600_000), '1 h');
    assert.equal(formatRetention(90_000), '90 s');
    assert.equal(formatRetention(150_500), '2.5 min');
    assert.equal(formatRetention(500), '500 ms');
    assert.equal(formatRetention(undefined), undefined);
    assert.equal(contextValueOf('topic', false, 'pipeline', undefined), 'topic-pipeline');
    assert.equal(contextValueOf('cluster', 'local', 'primary'), 'cluster-local-primary');
  });
});
