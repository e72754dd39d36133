// The engine versions the local stack downloads: Kafka, log4j, Flink, the Kafka connector, PyFlink.
/**
 * Engine versions, chosen on evidence (see README "Versions"): the newest Kafka 4.x that kafkajs 2.2.4 was run
 * against here, and the newest Flink whose Kafka SQL connector is released on Maven Central.
 */
export const KAFKA_VERSION = '4.4.0';
export const KAFKA_SCALA_ARTIFACT = 'kafka_2.13';
/** Kafka 4.4 still uses slf4j-api 1.7.x, so the log4j2 binding is log4j-slf4j-impl (not the slf4j2 one). */
export const LOG4J_VERSION = '2.25.3';
export const FLINK_VERSION = '2.2.1';
export const FLINK_KAFKA_CONNECTOR_VERSION = '5.0.0-2.2';
export const FLINK_KAFKA_CONNECTOR_ARTIFACT = `flink-sql-connector-kafka-${FLINK_KAFKA_CONNECTOR_VERSION}.jar`;

/** Python versions PyFlink 2.2 publishes wheels for. */
export const PYTHON_MIN: [number, number] = [3, 9];
export const PYTHON_MAX: [number, number] = [3, 12];
export const JAVA_MIN_MAJOR = 17;
/** uv (PyPI), which installs the PyFlink environment; pinned like the engines. */
export const UV_VERSION = '0.13.9';
