// The admin client callers hold for one Kafka cluster: one object over its connection and the admin's parts.
import type {
  ClusterModel,
  CommittedOffset,
  GroupModel,
  GroupPartitionLag,
  PartitionDetail,
  PartitionModel,
  PartitionOffsets,
  TopicModel,
} from './kafkaModels';
import { KafkaAdminConnection } from './kafkaAdminConnection';
import { describeGroup, describeGroupLag, fetchCommittedOffsets, listGroups, resetGroupOffsets } from './kafkaGroups';
import {
  describeCluster,
  describeTopicPartitions,
  fetchOffsetsForTimestamp,
  fetchOffsetsForTopics,
  fetchPartitionOffsets,
  fetchTopicConfigs,
  fetchTopicPartitions,
  listTopicDetails,
  listTopics,
  type TopicSummary,
} from './kafkaMetadata';
import { peek, produce } from './kafkaRecords';
import { addPartitions, createTopic, createTopicsInBulk, deleteTopic, deleteTopicsInBulk, purgeTopic } from './kafkaTopicAdmin';
import type { ResetTarget } from './offsetReset';
import type { PartitionRange, PeekedRecord, PeekRequest } from './peek';

/** Talks to one Kafka cluster through kafkajs; every call is bounded by a timeout. Each method's part says what it does. */
export class KafkaAdminClient extends KafkaAdminConnection {
  describeCluster(): Promise<ClusterModel> {
    return describeCluster(this);
  }

  listTopics(includeInternal?: boolean): Promise<TopicSummary[]> {
    return listTopics(this, includeInternal);
  }

  fetchTopicPartitions(topics?: string[]): Promise<Map<string, PartitionModel[]>> {
    return fetchTopicPartitions(this, topics);
  }

  fetchOffsetsForTopics(topics: string[], known?: Map<string, PartitionModel[]>): Promise<Map<string, PartitionOffsets[]>> {
    return fetchOffsetsForTopics(this, topics, known);
  }

  fetchPartitionOffsets(topic: string): Promise<PartitionOffsets[]> {
    return fetchPartitionOffsets(this, topic);
  }

  fetchTopicConfigs(topics: string[]): Promise<Map<string, { retentionMs?: number; cleanupPolicy?: string }>> {
    return fetchTopicConfigs(this, topics);
  }

  listTopicDetails(options?: { includeInternal?: boolean }): Promise<TopicModel[]> {
    return listTopicDetails(this, options);
  }

  describeTopicPartitions(topic: string): Promise<PartitionDetail[]> {
    return describeTopicPartitions(this, topic);
  }

  fetchOffsetsForTimestamp(topic: string, timestampMs: number): Promise<Map<number, number>> {
    return fetchOffsetsForTimestamp(this, topic, timestampMs);
  }

  createTopic(options: { name: string; partitions: number; replicationFactor?: number; retentionMs?: number }): Promise<void> {
    return createTopic(this, options);
  }

  createTopicsInBulk(names: string[], partitions: number, timeoutMs?: number): Promise<void> {
    return createTopicsInBulk(this, names, partitions, timeoutMs);
  }

  deleteTopicsInBulk(names: string[], timeoutMs?: number): Promise<void> {
    return deleteTopicsInBulk(this, names, timeoutMs);
  }

  deleteTopic(topic: string): Promise<void> {
    return deleteTopic(this, topic);
  }

  addPartitions(topic: string, total: number): Promise<void> {
    return addPartitions(this, topic, total);
  }

  purgeTopic(topic: string): Promise<number> {
    return purgeTopic(this, topic);
  }

  listGroups(): Promise<GroupModel[]> {
    return listGroups(this);
  }

  describeGroup(groupId: string): Promise<GroupModel> {
    return describeGroup(this, groupId);
  }

  fetchCommittedOffsets(groupId: string, topics?: string[]): Promise<CommittedOffset[]> {
    return fetchCommittedOffsets(this, groupId, topics);
  }

  describeGroupLag(groupId: string, topics?: string[]): Promise<GroupPartitionLag[]> {
    return describeGroupLag(this, groupId, topics);
  }

  resetGroupOffsets(
    groupId: string,
    topic: string,
    partition: number | 'all',
    target: ResetTarget,
  ): Promise<{ partition: number; offset: number }[]> {
    return resetGroupOffsets(this, groupId, topic, partition, target);
  }

  peek(
    request: PeekRequest,
    options?: { timeoutMs?: number; idleMs?: number },
  ): Promise<{ ranges: PartitionRange[]; records: PeekedRecord[]; complete: boolean }> {
    return peek(this, request, options);
  }

  produce(message: {
    topic: string;
    key?: string;
    value: string;
    partition?: number;
    headers?: Record<string, string>;
  }): Promise<{ partition: number; offset: number }> {
    return produce(this, message);
  }
}
