-- The pipeline's own window, in one statement: a TUMBLING window of 10 s of event time, per sensor.
--
-- Concept: event time and watermarks. Each event belongs to the window its own timestamp (`event_time`, from the
-- event's `ts`) falls in, not to the moment it arrived. A window's row appears once the watermark (the newest event
-- time seen, minus 5 s for late events) has passed the window's end: until then Flink keeps counting.
-- Compare a row with the same window in the results view: the pipeline job computes exactly this.
SELECT
  window_start,
  window_end,
  sensor_id,
  COUNT(*) AS events,
  ROUND(AVG(temperature), 2) AS avg_temperature,
  MAX(temperature) AS max_temperature
FROM TABLE(TUMBLE(TABLE sensor_data, DESCRIPTOR(event_time), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, sensor_id;
