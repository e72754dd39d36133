// The tables every SQL session starts with: sensor_data (the topic's good events), sensor_alerts (read_committed), aggregates (the committed CSV files), bounded or following the topic.

/** What a statement reads: following the topic (unbounded), or up to the end offsets read at submission (bounded). */
export interface ReadMode {
  from: 'earliest' | 'latest';
  /** Per topic, partition → the offset to stop at (exclusive): the end offsets when the statement was submitted. */
  boundedAt?: { sensorData: Map<number, number>; alerts: Map<number, number> };
}

export interface LabTableOptions {
  topic: string;
  alertsTopic: string;
  bootstrapServers: string;
  /** The committed aggregates: `<output folder>/aggregates`. */
  aggregatesDir: string;
  /** The statements' own consumer group prefix: never the pipeline job's. */
  groupId: string;
  /** A secured cluster's `properties.*` options (pipeline/kafkaTableSecurity.ts); none for plaintext. */
  kafkaSecurity?: Record<string, string>;
  /** The pipeline job's watermark: 5 s of out-of-orderness (its default), and its 30 s idle timeout. */
  watermarkDelaySeconds?: number;
  idleTimeoutSeconds?: number;
}

/** The topic the pipeline job writes its alerts to (in transactions): the lab's `sensor_alerts`. */
export const LAB_ALERTS_TOPIC = 'sensor-alerts';

/** The Kafka header of the generator's control records (its final watermark), as the pipeline job reads it. */
export const CONTROL_HEADER = 'pipeline-control';

/** Names the user sees; the `_source` tables under them are the session's own and equally read-only. */
export const LAB_TABLE_NAMES = ['sensor_data', 'sensor_alerts', 'aggregates'] as const;
export const LAB_SOURCE_TABLES = ['_sensor_data_source', '_sensor_alerts_source', '_aggregates_files'] as const;

const EVENT_COLUMNS: [string, string][] = [
  ['event_id', 'STRING'],
  ['sensor_id', 'STRING'],
  ['ts', 'BIGINT'],
  ['temperature', 'DOUBLE'],
  ['humidity', 'DOUBLE'],
  ['pressure', 'DOUBLE'],
  ['battery', 'DOUBLE'],
  ['seq', 'BIGINT'],
];

const ALERT_COLUMNS: [string, string][] = [
  ['event_id', 'STRING'],
  ['sensor_id', 'STRING'],
  ['ts', 'BIGINT'],
  ['temperature', 'DOUBLE'],
  ['reason', 'STRING'],
];

/** The pipeline job's aggregate columns, as its CSV files hold them (window bounds as ISO-8601 text). */
export const AGGREGATE_COLUMNS: [string, string][] = [
  ['sensor_id', 'STRING'],
  ['window_start', 'STRING'],
  ['window_end', 'STRING'],
  ['event_count', 'BIGINT'],
  ['avg_temperature', 'DOUBLE'],
  ['min_temperature', 'DOUBLE'],
  ['max_temperature', 'DOUBLE'],
  ['avg_humidity', 'DOUBLE'],
  ['anomaly_count', 'BIGINT'],
];

export const sqlString = (value: string) => `'${value.replace(/'/g, "''")}'`;
const columns = (list: [string, string][]) => list.map(([name, type]) => `\`${name}\` ${type}`).join(',\n  ');
const withOptions = (options: Record<string, string>) =>
  Object.entries(options)
    .map(([k, v]) => `${sqlString(k)} = ${sqlString(v)}`)
    .join(',\n  ');

/** Kafka's scan options of a read mode: where to start, and where a bounded read stops. */
export function scanOptions(mode: ReadMode, stopAt?: Map<number, number>): Record<string, string> {
  const options: Record<string, string> = { 'scan.startup.mode': mode.from === 'latest' ? 'latest-offset' : 'earliest-offset' };
  if (mode.boundedAt) {
    const offsets = [...(stopAt ?? new Map<number, number>())].sort(([a], [b]) => a - b);
    if (offsets.length === 0) {
      // An empty topic: stop at once wherever it starts.
      options['scan.bounded.mode'] = 'latest-offset';
    } else {
      options['scan.bounded.mode'] = 'specific-offsets';
      options['scan.bounded.specific-offsets'] = offsets.map(([p, o]) => `partition:${p},offset:${o}`).join(';');
    }
  }
  return options;
}

/**
 * The session's DDL, in order. sensor_data is a view over the raw source so that it holds only good events (control
 * records and records the job's `sensor-json` format could not parse are left out, as the pipeline job leaves them
 * out), with the job's event time and watermark. The views cannot be written to, and the raw sources below them use
 * a format that only reads (sensor-json) or are refused by the statement guard, so INSERT goes to the user's tables.
 */
export function labTableStatements(o: LabTableOptions, mode: ReadMode): string[] {
  const delay = o.watermarkDelaySeconds ?? 5;
  const idle = o.idleTimeoutSeconds ?? 30;
  const source = (topic: string, groupSuffix: string, extra: Record<string, string>) => ({
    connector: 'kafka',
    topic,
    'properties.bootstrap.servers': o.bootstrapServers,
    'properties.group.id': `${o.groupId}-${groupSuffix}`,
    'properties.client.id.prefix': `${o.groupId}-${groupSuffix}`,
    ...o.kafkaSecurity,
    ...extra,
  });
  return [
    ...LAB_TABLE_NAMES.map((name) => `DROP TEMPORARY VIEW IF EXISTS \`${name}\``),
    ...LAB_SOURCE_TABLES.map((name) => `DROP TEMPORARY TABLE IF EXISTS \`${name}\``),
    `CREATE TEMPORARY TABLE \`_sensor_data_source\` (
  ${columns(EVENT_COLUMNS)},
  \`parse_error\` STRING,
  \`event_time\` AS TO_TIMESTAMP_LTZ(COALESCE(\`ts\`, 0), 3),
  \`kafka_partition\` INT METADATA FROM 'partition' VIRTUAL,
  \`kafka_offset\` BIGINT METADATA FROM 'offset' VIRTUAL,
  \`kafka_timestamp\` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  \`headers\` MAP<STRING, BYTES> METADATA VIRTUAL,
  WATERMARK FOR \`event_time\` AS \`event_time\` - INTERVAL '${delay}' SECOND
) WITH (
  ${withOptions({
    ...source(o.topic, 'sensor-data', scanOptions(mode, mode.boundedAt?.sensorData)),
    'value.format': 'sensor-json',
    ...(idle > 0 ? { 'scan.watermark.idle-timeout': `${idle} s` } : {}),
  })}
)`,
    `CREATE TEMPORARY VIEW \`sensor_data\` AS
SELECT ${EVENT_COLUMNS.map(([c]) => `\`${c}\``).join(', ')}, \`event_time\`, \`kafka_partition\`, \`kafka_offset\`, \`kafka_timestamp\`
FROM \`_sensor_data_source\`
WHERE \`parse_error\` IS NULL AND \`headers\`[${sqlString(CONTROL_HEADER)}] IS NULL`,
    `CREATE TEMPORARY TABLE \`_sensor_alerts_source\` (
  ${columns(ALERT_COLUMNS)},
  \`kafka_partition\` INT METADATA FROM 'partition' VIRTUAL,
  \`kafka_offset\` BIGINT METADATA FROM 'offset' VIRTUAL,
  \`kafka_timestamp\` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL
) WITH (
  ${withOptions({
    ...source(o.alertsTopic, 'alerts', scanOptions(mode, mode.boundedAt?.alerts)),
    'properties.isolation.level': 'read_committed',
    'value.format': 'json',
    'value.json.ignore-parse-errors': 'true',
  })}
)`,
    `CREATE TEMPORARY VIEW \`sensor_alerts\` AS SELECT * FROM \`_sensor_alerts_source\``,
    `CREATE TEMPORARY TABLE \`_aggregates_files\` (
  ${columns(AGGREGATE_COLUMNS)}
) WITH (
  ${withOptions({
    connector: 'filesystem',
    path: o.aggregatesDir,
    // Only the CSV part files: the JSON lines beside them hold the same rows; in-progress files are hidden (.name).
    'source.path.regex-pattern': `${o.aggregatesDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/[^/]*\\.csv`,
    format: 'csv',
    // Every part file starts with its header line, which cannot parse as numbers: it becomes a row of NULLs, dropped below.
    'csv.ignore-parse-errors': 'true',
    ...(mode.boundedAt ? {} : { 'source.monitor-interval': '5 s' }),
  })}
)`,
    `CREATE TEMPORARY VIEW \`aggregates\` AS SELECT * FROM \`_aggregates_files\` WHERE \`event_count\` IS NOT NULL`,
  ];
}
