// A Flink Kafka table's options for a secured cluster: the SQL session's lab tables carry them as the pipeline job's tables do.
import { securityProtocol, usesSasl, type ClusterSecurity } from '../kafka/clusterSecurity';

/** Kafka's login modules as the Kafka SQL connector shades them. */
const SHADED_LOGIN_MODULE: Record<string, string> = {
  plain: 'org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule',
  'scram-sha-256': 'org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule',
  'scram-sha-512': 'org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule',
};

/** Kafka reads sasl.jaas.config with a StreamTokenizer: inside double quotes, a backslash escapes. */
const jaasQuoted = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * The `properties.*` options of the lab's Kafka tables for a secured cluster, as the pipeline job sets them
 * (flink-jobs/kafka_security.py flink_kafka_options): the protocol, the CA as a PEM truststore, the SASL login.
 * Nothing for plaintext.
 */
export function kafkaSecurityOptions(security: ClusterSecurity, password?: string): Record<string, string> {
  const protocol = securityProtocol(security);
  if (protocol === 'PLAINTEXT') return {};
  const options: Record<string, string> = { 'properties.security.protocol': protocol };
  if (security.tls && security.caFile) {
    options['properties.ssl.truststore.type'] = 'PEM';
    options['properties.ssl.truststore.location'] = security.caFile;
  }
  if (usesSasl(security)) {
    if (!password) throw new Error('SASL needs the password');
    options['properties.sasl.mechanism'] = security.mechanism.toUpperCase();
    options['properties.sasl.jaas.config'] =
      `${SHADED_LOGIN_MODULE[security.mechanism]} required username=${jaasQuoted(security.username)} password=${jaasQuoted(password)};`;
  }
  return options;
}
