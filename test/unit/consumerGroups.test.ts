import * as assert from 'node:assert/strict';
import { AssignerProtocol } from 'kafkajs';
import { decodeAssignment, isThrowAwayGroup } from '../../src/kafka/kafkaGroups';
import { SCAN_GROUP_PREFIX } from '../../src/kafka/topicScan';
import { assignmentChange, jobGroupRefusal, rebalanceLine, recordLine } from '../../src/kafka/groupMember';
import { isIdleMember, memberDescription, memberLabel, memberTooltip } from '../../src/kafka/treeModel';
import type { GroupMemberModel, GroupModel } from '../../src/kafka/kafkaModels';
import { cliConsumeArgs } from '../../src/services/cliArgs';
import { partitionsOfSubtask } from '../../src/flink/flinkRestMetrics';
import { subtaskRows } from '../../src/flink/flinkOperators';
import { slotShortfall } from '../../src/flink/flinkJobs';

const member = (clientId: string, partitions: number[]): GroupMemberModel => ({
  memberId: `${clientId}-0b1c`,
  clientId,
  clientHost: '/127.0.0.1',
  assignment: partitions.length ? [{ topic: 'sensor-data', partitions }] : [],
});

describe('consumer groups: members and rebalances', () => {
  it('hides the groups a scan makes for one read, and only those', () => {
    assert.equal(isThrowAwayGroup(`${SCAN_GROUP_PREFIX}mxcp1-ab12cd`), true);
    assert.equal(isThrowAwayGroup('kafka-flink-lab-peek-1765000000000-ab12cd'), true);
    for (const kept of ['lab-consumers', 'flink-sensor-processor', 'kafka-flink-lab-sql-vscode-123', 'my-kafka-flink-lab-scan-x'])
      assert.equal(isThrowAwayGroup(kept), false, kept);
  });

  it('reads a member’s partitions from the consumer protocol’s assignment bytes; nothing from empty or odd bytes', () => {
    const bytes = AssignerProtocol.MemberAssignment.encode({
      version: 0,
      assignment: { 'sensor-data': [2, 0] },
      userData: Buffer.alloc(0),
    });
    assert.deepEqual(decodeAssignment(bytes), [{ topic: 'sensor-data', partitions: [0, 2] }]);
    assert.deepEqual(decodeAssignment(Buffer.alloc(0)), []);
    assert.deepEqual(decodeAssignment(Buffer.from([1, 2, 3])), []);
  });

  it('a fourth member on three partitions is idle, and its tooltip says why', () => {
    const members = [
      member('pipeline-consume-1', [0]),
      member('pipeline-consume-2', [1]),
      member('pipeline-consume-3', [2]),
      member('pipeline-consume-4', []),
    ];
    const group: GroupModel = { groupId: 'lab-consumers', state: 'Stable', protocolType: 'consumer', members: 4, memberList: members };
    assert.equal(memberLabel(members[0]), 'member pipeline-consume-1');
    assert.equal(memberDescription(members[0], group), 'owns partition 0');
    assert.equal(memberDescription(member('x', [0, 2]), group), 'owns partitions 0, 2');
    assert.equal(isIdleMember(members[3]), true);
    assert.equal(memberDescription(members[3], group), 'idle: no partition');
    assert.match(
      memberTooltip(members[3], group),
      /a partition goes to at most one member of a group, and 4 members share 3 partitions here/,
    );
    assert.equal(memberDescription(members[3], { ...group, state: 'CompletingRebalance' }), 'no partition yet (CompletingRebalance)');
  });

  it('says what a rebalance gave a member and what it took', () => {
    const change = assignmentChange('m-1', [0, 1, 2], [2, 0]);
    assert.deepEqual(change, { memberId: 'm-1', owned: [0, 2], got: [], gaveUp: [1] });
    assert.equal(rebalanceLine('sensor-data', change), '── rebalance: this member owns sensor-data partitions 0, 2; got none, gave up 1');
    assert.equal(
      rebalanceLine('sensor-data', assignmentChange('m-4', [], [])),
      '── rebalance: this member owns no partition of sensor-data: idle (a partition goes to at most one member of a group); got none, gave up none',
    );
    assert.equal(
      recordLine({ partition: 1, offset: '42', timestamp: '0', key: 'sensor-007', value: '{"t":1}' }),
      'p1 @42  sensor-007  {"t":1}',
    );
  });

  it("refuses the Flink job's group, in words; starts a member with an argv the CLI reads", () => {
    assert.equal(jobGroupRefusal('lab-consumers', 'flink-sensor-processor'), undefined);
    assert.match(
      jobGroupRefusal('flink-sensor-processor', 'flink-sensor-processor')!,
      /the Flink job's consumer group .* Choose another group/,
    );
    assert.deepEqual(
      cliConsumeArgs({
        workspace: '/w',
        group: 'lab-consumers',
        topic: 'sensor-data',
        bootstrapServers: '127.0.0.1:9092',
        from: 'earliest',
      }),
      [
        'consume',
        '--group=lab-consumers',
        '--topic=sensor-data',
        '--from=earliest',
        '--bootstrap-servers=127.0.0.1:9092',
        '--workspace=/w',
      ],
    );
    assert.throws(
      () => cliConsumeArgs({ workspace: '/w', group: 'a b', topic: 'sensor-data', bootstrapServers: 'x', from: 'earliest' }),
      /group id/,
    );
  });
});

describe("Flink's side: the source's subtasks and the slots they need", () => {
  it('reads which partitions a source subtask holds from its metric names; a subtask with none is idle, and says why', () => {
    const names = [
      'Source__kafka_src[1].KafkaSourceReader.topic.sensor-data.partition.2.currentOffset',
      'Source__kafka_src[1].KafkaSourceReader.topic.sensor-data.partition.2.committedOffset',
      'Source__kafka_src[1].split.sensor-data-2.watermark.currentWatermark',
      'Source__kafka_src[1].KafkaSourceReader.topic.sensor-data.partition.0.currentOffset',
    ];
    assert.deepEqual(partitionsOfSubtask(names), [
      { topic: 'sensor-data', partition: 0 },
      { topic: 'sensor-data', partition: 2 },
    ]);
    const rows = subtaskRows('j', 'v', [
      [{ topic: 'sensor-data', partition: 0 }],
      [{ topic: 'sensor-data', partition: 1 }],
      [{ topic: 'sensor-data', partition: 2 }],
      [],
    ]);
    assert.deepEqual(
      rows.map((r) => [r.label, r.description]),
      [
        ['subtask 0', 'reads partition 0 of sensor-data'],
        ['subtask 1', 'reads partition 1 of sensor-data'],
        ['subtask 2', 'reads partition 2 of sensor-data'],
        ['subtask 3', 'idle: no partition to read'],
      ],
    );
    assert.match(rows[3].tooltip!, /4 subtasks share 3 partitions here, so one has nothing to read/);
  });

  it('refuses a parallelism the free slots cannot hold, in words with the ways out', () => {
    assert.equal(slotShortfall(3, 3, 4, 'http://127.0.0.1:8081'), undefined);
    assert.match(
      slotShortfall(3, 1, 4, 'http://127.0.0.1:8081')!,
      /needs 3 free task slots, but .* has 1 of 4 free \(running jobs and SQL statements hold the others\)\. Stop a statement or a job/,
    );
    assert.match(slotShortfall(5, 4, 4, 'http://127.0.0.1:8081')!, /has 4 of 4 free\. Lower the parallelism .*pipeline flink up --slots 3/);
  });
});
