// What the Kafka explorer shows of a cluster, as plain data: brokers, topics, partitions with offsets, groups and lag.
/** What the explorer shows about a Kafka cluster: plain data, no VS Code, filled in by the Kafka admin provider. */

export interface PartitionOffsets {
  partition: number;
  /** The first offset still stored (the log start; moves forward with retention or a purge). */
  low: number;
  /** The high watermark: the offset the next record gets; consumers can read up to here. */
  high: number;
}

export interface BrokerModel {
  nodeId: number;
  host: string;
  port: number;
  rack?: string;
  /** The broker that metadata names as controller (in KRaft, the broker that forwards to the active controller). */
  isController: boolean;
}

export interface ClusterModel {
  clusterId?: string;
  controller?: number;
  brokers: BrokerModel[];
}

export interface PartitionModel {
  partition: number;
  /** -1 when the partition has no leader (offline). */
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicModel {
  name: string;
  internal: boolean;
  partitions: PartitionModel[];
  replicationFactor: number;
  /** retention.ms; -1 keeps records forever; undefined when the configs could not be read. */
  retentionMs?: number;
  cleanupPolicy?: string;
  /** Sum of (high − low) over partitions; undefined when the offsets could not be read. */
  messages?: number;
}

export interface PartitionDetail extends PartitionModel, PartitionOffsets {}

export interface GroupModel {
  groupId: string;
  /** Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown… as the coordinator reports it. */
  state: string;
  protocolType: string;
  members: number;
  /** Each member with the partitions the group's leader gave it (consumer groups; empty while a rebalance runs). */
  memberList?: GroupMemberModel[];
}

export interface GroupMemberModel {
  memberId: string;
  clientId: string;
  clientHost: string;
  /** Partitions owned, per topic, partitions in order. */
  assignment: { topic: string; partitions: number[] }[];
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  /** -1 when the group has no commit for this partition. */
  offset: number;
}

export interface GroupPartitionLag {
  topic: string;
  partition: number;
  committed?: number;
  end?: number;
  lag?: number;
  /** Set when the numbers need explaining (no commit yet, committed past the end). */
  note?: string;
}
