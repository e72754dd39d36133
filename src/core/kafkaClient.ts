import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';

export interface ConnectionOptions {
  bootstrapServers: string[];
  clientId?: string;
  /** SASL with the password already resolved (the extension keeps it in SecretStorage). */
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  ssl?: boolean;
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
  const config: KafkaConfig = {
    clientId: options.clientId ?? 'kafka-flink-lab',
    brokers: options.bootstrapServers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 5000,
    retry: { retries: options.retries ?? 2, initialRetryTime: 200, maxRetryTime: 2000 },
  };
  if (options.ssl) config.ssl = true;
  if (options.sasl) config.sasl = { ...options.sasl } as SASLOptions;
  return new Kafka(config);
}
