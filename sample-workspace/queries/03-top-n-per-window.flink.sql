-- TOP-N per window: the 3 hottest sensors of every minute.
--
-- Concept: ROW_NUMBER() over the rows of one window, ordered by what ranks them, and a filter on that number. Over a
-- window Flink emits each window's top 3 once, when the window closes. The same ranking over the unbounded stream
-- (without the window) would have to correct itself as new events arrive: see 04 for what such corrections look like.
SELECT window_start, window_end, sensor_id, avg_temperature, ranking
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY avg_temperature DESC) AS ranking
  FROM (
    SELECT window_start, window_end, sensor_id, ROUND(AVG(temperature), 2) AS avg_temperature
    FROM TABLE(TUMBLE(TABLE sensor_data, DESCRIPTOR(event_time), INTERVAL '1' MINUTE))
    GROUP BY window_start, window_end, sensor_id
  )
)
WHERE ranking <= 3;
