-- A HOPPING (sliding) window: 30 s long, starting every 10 s.
--
-- Concept: windows may overlap. Each event falls into 30 / 10 = 3 windows, so the counts add up to three times the
-- events: a moving average that is updated every 10 s and smooths over 30 s. A tumbling window is the special case
-- where the slide equals the size.
SELECT
  window_start,
  window_end,
  sensor_id,
  COUNT(*) AS events,
  ROUND(AVG(temperature), 2) AS moving_avg_temperature
FROM TABLE(HOP(TABLE sensor_data, DESCRIPTOR(event_time), INTERVAL '10' SECOND, INTERVAL '30' SECOND))
GROUP BY window_start, window_end, sensor_id;
