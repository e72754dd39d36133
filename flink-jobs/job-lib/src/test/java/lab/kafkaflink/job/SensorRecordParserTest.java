package lab.kafkaflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

class SensorRecordParserTest {

    private final SensorRecordParser parser = new SensorRecordParser(65536);

    private static final String GOOD = "{\"event_id\":\"e-1\",\"sensor_id\":\"sensor-007\",\"ts\":1764064800123,\"temperature\":21.37,"
            + "\"humidity\":45.2,\"pressure\":1013.2,\"battery\":0.93,\"seq\":42}";

    private SensorRecordParser.Result parse(String s) {
        return parser.parse(s == null ? null : s.getBytes(StandardCharsets.UTF_8));
    }

    private String error(String s) {
        return parse(s).error;
    }

    /** The contract's event with one field replaced by a raw JSON value (or removed when json is null). */
    private static String with(String field, String json) {
        String replaced = GOOD.replaceFirst("\"" + field + "\":(\"[^\"]*\"|[^,}]*)", json == null ? "" : "\"" + field + "\":" + json);
        return replaced.replace(",,", ",").replace("{,", "{").replace(",}", "}");
    }

    @Test
    void readsEveryFieldOfTheContractsEvent() {
        SensorRecordParser.Result r = parse(GOOD);
        assertNull(r.error);
        assertEquals("e-1", r.eventId);
        assertEquals("sensor-007", r.sensorId);
        assertEquals(1764064800123L, r.ts);
        assertEquals(21.37, r.temperature);
        assertEquals(45.2, r.humidity);
        assertEquals(1013.2, r.pressure);
        assertEquals(0.93, r.battery);
        assertEquals(42L, r.seq);
    }

    @Test
    void acceptsNumbersWrittenAsTextAndIdsWrittenAsNumbers() {
        SensorRecordParser.Result r = parse("{\"event_id\":5,\"sensor_id\":\"s3\",\"ts\":\" 1764064801000 \",\"temperature\":\"21.5\","
                + "\"humidity\":1,\"pressure\":2e0,\"battery\":\"-3\",\"seq\":\"4\",\"extra\":{\"nested\":[1,2]}}");
        assertNull(r.error);
        assertEquals("5", r.eventId);
        assertEquals(1764064801000L, r.ts);
        assertEquals(21.5, r.temperature);
        assertEquals(2.0, r.pressure);
        assertEquals(-3.0, r.battery);
        assertEquals(4L, r.seq);
    }

    @Test
    void theLastOfDuplicateFieldsCounts() {
        SensorRecordParser.Result r = parse(GOOD.replace("\"seq\":42", "\"seq\":42,\"seq\":43"));
        assertEquals(43L, r.seq);
    }

    @Test
    void emptyRecordsAndTombstones() {
        assertEquals("empty", error(null));
        assertEquals("empty", error(""));
        assertEquals("empty", error("   \n\t"));
    }

    @Test
    void oversizedCountsCharactersNotBytes() {
        SensorRecordParser small = new SensorRecordParser(20);
        assertEquals("oversized: 21 chars (max 20)", small.parse("x".repeat(21).getBytes(StandardCharsets.UTF_8)).error);
        // 20 characters of 2 bytes each: 40 bytes but within the limit, so parsed (and found not to be JSON)
        assertEquals("invalid JSON", small.parse("é".repeat(20).getBytes(StandardCharsets.UTF_8)).error);
    }

    @Test
    void invalidJson() {
        for (String s : new String[] {"not json", "{\"ts\": 12", "[1, 2]", "\"text\"", "42", GOOD + " {}", GOOD + "x", "{'a': 1}", "{\"a\": NaN}"}) {
            assertEquals("invalid JSON", error(s), s);
        }
        byte[] badUtf8 = GOOD.replace("sensor-007", "sensor-\u00ff").getBytes(StandardCharsets.ISO_8859_1);
        assertEquals("invalid JSON", parser.parse(badUtf8).error);
    }

    @Test
    void notASensorEvent() {
        assertEquals("invalid JSON or not a sensor event", error("{}"));
        assertEquals("invalid JSON or not a sensor event", error("{\"humidity\": 1, \"seq\": 2}"));
    }

    @Test
    void theFirstMissingFieldInContractOrder() {
        assertEquals("missing field: event_id", error(with("event_id", null)));
        assertEquals("missing field: sensor_id", error(with("sensor_id", null)));
        assertEquals("missing field: ts", error(with("ts", "null")));
        assertEquals("missing field: humidity", error(with("humidity", null)));
        assertEquals("missing field: seq", error(with("seq", null)));
        assertEquals("missing field: humidity", error(with("seq", null).replace("\"humidity\":45.2,", "")));
    }

    @Test
    void wrongTypes() {
        assertEquals("wrong type: event_id is empty", error(with("event_id", "\" \"")));
        assertEquals("wrong type: sensor_id is not text", error(with("sensor_id", "{\"id\": 1}")));
        assertEquals("wrong type: ts is not a positive integer (epoch ms)", error(with("ts", "\"soon\"")));
        assertEquals("wrong type: ts is not a positive integer (epoch ms)", error(with("ts", "1764064800123.5")));
        assertEquals("wrong type: ts is not a positive integer (epoch ms)", error(with("ts", "0")));
        assertEquals("wrong type: ts is not a positive integer (epoch ms)", error(with("ts", "99999999999999999999999")));
        assertEquals("wrong type: seq is not a non-negative integer", error(with("seq", "-1")));
        assertEquals("wrong type: temperature is not a number", error(with("temperature", "\"hot\"")));
        assertEquals("wrong type: temperature is not a number", error(with("temperature", "true")));
        assertEquals("wrong type: temperature is not a number", error(with("temperature", "[21.5]")));
        assertEquals("wrong type: humidity is not a number", error(with("humidity", "\"\"")));
        assertEquals("wrong type: pressure is not a number", error(with("pressure", "\"0x10\"")));
    }

    @Test
    void nonFiniteNumbersAreRefused() {
        assertEquals("wrong type: temperature is not a number", error(with("temperature", "\"NaN\"")));
        assertEquals("wrong type: battery is not a number", error(with("battery", "\"Infinity\"")));
        assertEquals("wrong type: humidity is not a finite number", error(with("humidity", "1e400")));
    }

    @Test
    void anEventTimeFarAheadOfNowIsAFutureTimestamp() {
        long now = 1764064800123L;
        SensorRecordParser clocked = new SensorRecordParser(65536, 86_400_000L, () -> now);
        assertNull(clocked.parse(GOOD.getBytes(StandardCharsets.UTF_8)).error);
        String inADay = with("ts", String.valueOf(now + 86_400_000L));
        assertNull(clocked.parse(inADay.getBytes(StandardCharsets.UTF_8)).error, "exactly the tolerance is still fine");
        String micros = with("ts", String.valueOf(now * 1000));
        String error = clocked.parse(micros.getBytes(StandardCharsets.UTF_8)).error;
        assertTrue(error.startsWith("future timestamp: ts " + now * 1000 + " is "), error);
        assertTrue(error.endsWith("ahead of now (more than 1 day)"), error);
        assertEquals("future timestamp: ts " + (now + 3 * 3_600_000L + 86_400_000L) + " is 1.1 days ahead of now (more than 1 day)",
                clocked.parse(with("ts", String.valueOf(now + 3 * 3_600_000L + 86_400_000L)).getBytes(StandardCharsets.UTF_8)).error);
    }

    @Test
    void anyBytesGiveARowNeverAnException() {
        java.util.Random random = new java.util.Random(20261204L);
        byte[] good = GOOD.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 20_000; i++) {
            byte[] value;
            if (i % 2 == 0) {
                value = new byte[random.nextInt(300)];
                random.nextBytes(value);
            } else {
                value = good.clone();
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--) value[random.nextInt(value.length)] = (byte) random.nextInt(256);
            }
            SensorRecordParser.Result r = parser.parse(value);
            assertTrue(r.ok() == (r.error == null), "seed 20261204, record " + i);
            if (r.ok()) assertTrue(r.sensorId != null && !r.sensorId.isBlank() && r.ts > 0 && Double.isFinite(r.temperature), "record " + i);
        }
    }

    @Test
    void theResultIsResetBetweenRecords() {
        assertEquals("empty", error(""));
        assertNull(error(GOOD));
        assertTrue(error(with("seq", null)).startsWith("missing field"));
        assertNull(parse(GOOD).error);
    }
}
