// The kafkajs client of the extension and the CLI: connection options, the Kafka instance, and creating the pipeline's topic.
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { registerLz4Decompression, waitForTopicLeaders } from './kafkajsShims';
import { untrustedCertificateProblem, type TlsOptions } from './tlsTrust';
import { UserError } from '../shared/errors';

export interface ConnectionOptions {
  bootstrapServers: string[];
  clientId?: string;
  /** SASL with the password already resolved (the extension keeps it in SecretStorage). */
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  ssl?: TlsOptions;
  /** Per-request timeout; every call to a broker is bounded. */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  retries?: number;
}

export function parseBootstrapServers(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function createKafka(options: ConnectionOptions): Kafka {
  // The generator's batches are lz4: without this, peeking at its topic fails on the first batch.
  registerLz4Decompression();
  const config: KafkaConfig = {
    clientId: options.clientId ?? 'kafka-flink-lab',
    brokers: options.bootstrapServers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 5000,
    retry: { retries: options.retries ?? 2, initialRetryTime: 200, maxRetryTime: 2000 },
  };
  if (options.ssl) config.ssl = options.ssl === true ? true : { ca: [options.ssl.ca] };
  if (options.sasl) config.sasl = { ...options.sasl } as SASLOptions;
  return new Kafka(config);
}

/** Creates `topic` when it is missing (the local broker does not auto-create topics); true if it created it. */
export async function ensureTopic(
  bootstrapServers: string,
  topic: string,
  partitions: number,
  security: Pick<ConnectionOptions, 'ssl' | 'sasl'> = {},
): Promise<boolean> {
  const admin = createKafka({ bootstrapServers: parseBootstrapServers(bootstrapServers), requestTimeoutMs: 10_000, ...security }).admin();
  try {
    await admin.connect();
  } catch (error) {
    const untrusted = untrustedCertificateProblem(
      bootstrapServers,
      typeof security.ssl === 'object' ? security.ssl.caFile : undefined,
      error,
    );
    throw untrusted ? new UserError(untrusted, String(error)) : error;
  }
  try {
    if ((await admin.listTopics()).includes(topic)) return false;
    const brokers = (await admin.describeCluster()).brokers.length;
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: Math.min(3, brokers) }],
      waitForLeaders: false,
    });
    const problem = await waitForTopicLeaders(admin, topic, partitions, 30_000);
    if (problem) throw new Error(`topic ${topic} was created, but its partitions had no leader within 30 s (${problem})`);
    return created;
  } finally {
    await admin.disconnect();
  }
}
