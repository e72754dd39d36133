// The settings the pipeline CLI shares with the extension, and their defaults as package.json declares them (a unit test compares the two).
export const SETTINGS_PREFIX = 'kafkaFlinkLab';

export const SETTING_DEFAULTS = {
  bootstrapServers: '127.0.0.1:9092',
  'sasl.mechanism': 'none',
  'sasl.username': '',
  tls: false,
  tlsCaFile: '',
  'sasl.allowPlaintext': false,
  topic: 'sensor-data',
  partitions: 3,
  'generator.rate': 100,
  'generator.sensors': 10,
  windowSeconds: 10,
  'job.groupId': 'flink-sensor-processor',
  'job.parallelism': 1,
  outputFolder: 'output',
  flinkRestUrl: 'http://127.0.0.1:8081',
  'flink.target': 'local-cluster',
  'flink.sqlGatewayUrl': '',
} as const;

export type SettingKey = keyof typeof SETTING_DEFAULTS;

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTING_DEFAULTS, key);
}
