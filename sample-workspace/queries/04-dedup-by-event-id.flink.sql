-- DEDUPLICATION: each event_id once, however many times it was delivered.
--
-- Concept: at-least-once delivery. A producer that retries can write the same event twice; Kafka then holds two
-- records with one event_id. Keeping the first row per event_id (ROW_NUMBER() ordered by event time, = 1) drops the
-- copies. The pipeline job does not need this: its generator is idempotent and its sinks are exactly-once.
-- Run it with `--json` (or the changelog switch) to see every row arrive as an insert (+I): keeping the FIRST row
-- never has to take one back. Order by event_time DESC (keep the last) and each newer copy retracts the older
-- one (-U, +U).
SELECT event_id, sensor_id, event_time, temperature, kafka_partition, kafka_offset
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_time ASC) AS copy
  FROM sensor_data
)
WHERE copy = 1;
