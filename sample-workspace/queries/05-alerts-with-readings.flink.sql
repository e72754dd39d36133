-- A JOIN of two topics: each alert of the pipeline job with the reading behind it.
--
-- Concept: a regular join over streams. The job wrote an alert (topic sensor-alerts, read `read_committed`: only
-- transactions the job committed) for each reading over its threshold; the reading itself is in sensor-data. Joining
-- them on event_id gives the alert its whole reading: humidity, battery, and where it is in Kafka (partition, offset).
-- A regular join keeps both sides in Flink's state for as long as it runs; an interval join (a time bound between
-- the sides) lets Flink forget old rows.
SELECT
  a.sensor_id,
  a.reason,
  d.event_time,
  d.temperature,
  d.humidity,
  d.battery,
  d.kafka_partition,
  d.kafka_offset
FROM sensor_alerts AS a
JOIN sensor_data AS d ON d.event_id = a.event_id;
