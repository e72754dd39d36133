package lab.kafkaflink.job;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.function.LongSupplier;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonFactory;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonParser;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.core.JsonToken;

/**
 * Parses one Kafka record value of the sensor event contract in a single pass and says what is wrong with it.
 *
 * <p>The checks and their messages are the job's dead-letter reasons, in this order: empty, oversized, invalid JSON,
 * not a sensor event, the first missing field, then the first field of a wrong type. A field counts as present when
 * its value is a JSON scalar other than null; numbers may also come as numeric text ({@code "ts": "1764064800123"}),
 * as PyFlink's former JSON_VALUE-based SQL accepted them. Non-finite numbers are refused (they would poison averages),
 * and so is an event time further ahead of now than the tolerance (say microseconds sent as milliseconds): it would
 * move its partition's watermark so far that every later event of the partition counted as late.
 *
 * <p>Not thread-safe: one instance per deserializer (per task), its result object reused for every record.
 */
public final class SensorRecordParser {

    /** Field order of the contract, also the order in which "missing field" is reported. */
    static final String[] FIELDS = {"event_id", "sensor_id", "ts", "temperature", "humidity", "pressure", "battery", "seq"};

    static final int EVENT_ID = 0, SENSOR_ID = 1, TS = 2, TEMPERATURE = 3, HUMIDITY = 4, PRESSURE = 5, BATTERY = 6, SEQ = 7;

    /** The parse of one record: either {@link #error} is set, or every field is. */
    public static final class Result {
        public String error;
        public String eventId;
        public String sensorId;
        public long ts;
        public double temperature;
        public double humidity;
        public double pressure;
        public double battery;
        public long seq;

        public boolean ok() {
            return error == null;
        }
    }

    private static final JsonFactory JSON = new JsonFactory();

    private final int maxRecordChars;
    private final long futureToleranceMs;
    private final LongSupplier clock;
    private final Result result = new Result();
    /** Text of each field as read (null when absent or JSON null); kinds say whether it was a string, number, … */
    private final String[] text = new String[FIELDS.length];
    private final JsonToken[] kinds = new JsonToken[FIELDS.length];
    private final long[] longs = new long[FIELDS.length];
    private final boolean[] isLong = new boolean[FIELDS.length];
    private final double[] doubles = new double[FIELDS.length];

    public SensorRecordParser(int maxRecordChars) {
        this(maxRecordChars, DEFAULT_FUTURE_TOLERANCE_MS, System::currentTimeMillis);
    }

    /** One day: clocks of sensors drift, but not by days. */
    public static final long DEFAULT_FUTURE_TOLERANCE_MS = 86_400_000L;

    public SensorRecordParser(int maxRecordChars, long futureToleranceMs, LongSupplier clock) {
        this.maxRecordChars = maxRecordChars;
        this.futureToleranceMs = futureToleranceMs;
        this.clock = clock;
    }

    /** Parses {@code value} (null for a Kafka tombstone). The returned object is reused by the next call. */
    public Result parse(byte[] value) {
        Result r = result;
        r.error = null;
        r.eventId = null;
        r.sensorId = null;
        if (value == null || isBlank(value)) {
            r.error = "empty";
            return r;
        }
        if (value.length > maxRecordChars) {
            // A UTF-8 record of more bytes than the limit can still be within it in characters.
            int chars = new String(value, StandardCharsets.UTF_8).length();
            if (chars > maxRecordChars) {
                r.error = "oversized: " + chars + " chars (max " + maxRecordChars + ")";
                return r;
            }
        }
        for (int i = 0; i < FIELDS.length; i++) {
            text[i] = null;
            kinds[i] = null;
        }
        if (!readObject(value)) {
            r.error = "invalid JSON";
            return r;
        }
        if (kinds[EVENT_ID] == null && kinds[SENSOR_ID] == null && kinds[TS] == null && kinds[TEMPERATURE] == null) {
            r.error = "invalid JSON or not a sensor event";
            return r;
        }
        for (int i = 0; i < FIELDS.length; i++) {
            if (kinds[i] == null) {
                r.error = "missing field: " + FIELDS[i];
                return r;
            }
        }
        r.error = typeError();
        if (r.error != null) return r;
        long now = clock.getAsLong();
        if (longs[TS] > now + futureToleranceMs) {
            r.error = "future timestamp: ts " + longs[TS] + " is " + describeAhead(longs[TS] - now) + " ahead of now (more than "
                    + describeAhead(futureToleranceMs) + ")";
            return r;
        }
        r.eventId = text[EVENT_ID];
        r.sensorId = text[SENSOR_ID];
        r.ts = longs[TS];
        r.seq = longs[SEQ];
        r.temperature = doubles[TEMPERATURE];
        r.humidity = doubles[HUMIDITY];
        r.pressure = doubles[PRESSURE];
        r.battery = doubles[BATTERY];
        return r;
    }

    /** The first wrong-type message, in the order the job has always checked them, or null. */
    private String typeError() {
        for (int i : new int[] {EVENT_ID, SENSOR_ID}) {
            if (!isScalar(i)) return "wrong type: " + FIELDS[i] + " is not text";
            if (text[i].trim().isEmpty()) return "wrong type: " + FIELDS[i] + " is empty";
        }
        if (!readLong(TS) || longs[TS] <= 0) return "wrong type: ts is not a positive integer (epoch ms)";
        if (!readLong(SEQ) || longs[SEQ] < 0) return "wrong type: seq is not a non-negative integer";
        for (int i : new int[] {TEMPERATURE, HUMIDITY, PRESSURE, BATTERY}) {
            if (!readDouble(i)) return "wrong type: " + FIELDS[i] + " is not a number";
            if (!Double.isFinite(doubles[i])) return "wrong type: " + FIELDS[i] + " is not a finite number";
        }
        return null;
    }

    /** Reads one JSON object, keeping the scalars of the contract's fields; false when it is not exactly one object. */
    private boolean readObject(byte[] value) {
        try (JsonParser p = JSON.createParser(value)) {
            if (p.nextToken() != JsonToken.START_OBJECT) return false;
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                int field = fieldIndex(p.currentName());
                JsonToken v = p.nextToken();
                if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                    p.skipChildren();
                    if (field >= 0) {
                        kinds[field] = v;
                        text[field] = null;
                    }
                } else if (field >= 0) {
                    if (v == JsonToken.VALUE_NULL) {
                        kinds[field] = null;
                        text[field] = null;
                    } else {
                        kinds[field] = v;
                        // Numbers are read as numbers; their text is kept only where it may be used as an id.
                        boolean number = v == JsonToken.VALUE_NUMBER_INT || v == JsonToken.VALUE_NUMBER_FLOAT;
                        text[field] = number && field != EVENT_ID && field != SENSOR_ID ? null : p.getText();
                        isLong[field] = v == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER;
                        if (isLong[field]) longs[field] = p.getLongValue();
                        if (number) doubles[field] = p.getDoubleValue();
                    }
                }
            }
            if (t != JsonToken.END_OBJECT) return false;
            return p.nextToken() == null;
        } catch (IOException e) {
            return false;
        }
    }

    private static int fieldIndex(String name) {
        switch (name) {
            case "event_id": return EVENT_ID;
            case "sensor_id": return SENSOR_ID;
            case "ts": return TS;
            case "temperature": return TEMPERATURE;
            case "humidity": return HUMIDITY;
            case "pressure": return PRESSURE;
            case "battery": return BATTERY;
            case "seq": return SEQ;
            default: return -1;
        }
    }

    /** A scalar: text, number or boolean (an id may be any scalar: JSON_VALUE, which the job used before, read them as text). */
    private boolean isScalar(int i) {
        return kinds[i] != JsonToken.START_OBJECT && kinds[i] != JsonToken.START_ARRAY;
    }

    /** An integer as a JSON integer or as text of digits; sets longs[i]. */
    private boolean readLong(int i) {
        JsonToken k = kinds[i];
        if (k == JsonToken.VALUE_NUMBER_INT) return isLong[i];
        if (k != JsonToken.VALUE_STRING) return false;
        String s = text[i].trim();
        int start = s.startsWith("-") || s.startsWith("+") ? 1 : 0;
        if (s.length() == start || s.length() - start > 19) return false;
        for (int c = start; c < s.length(); c++) {
            if (s.charAt(c) < '0' || s.charAt(c) > '9') return false;
        }
        try {
            longs[i] = Long.parseLong(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /** A number as a JSON number or as numeric text (digits, sign, point, exponent; no NaN, no hex); sets doubles[i]. */
    private boolean readDouble(int i) {
        JsonToken k = kinds[i];
        if (k == JsonToken.VALUE_NUMBER_INT || k == JsonToken.VALUE_NUMBER_FLOAT) return true;
        if (k == JsonToken.VALUE_STRING) {
            String s = text[i].trim();
            if (s.isEmpty()) return false;
            boolean digit = false;
            for (int c = 0; c < s.length(); c++) {
                char ch = s.charAt(c);
                if (ch >= '0' && ch <= '9') digit = true;
                else if (ch != '+' && ch != '-' && ch != '.' && ch != 'e' && ch != 'E') return false;
            }
            if (!digit) return false;
            try {
                doubles[i] = Double.parseDouble(s);
                return true;
            } catch (NumberFormatException e) {
                return false;
            }
        }
        return false;
    }

    /** "3.2 days", "5 hours", "40 s": how far ahead, for the message. */
    static String describeAhead(long ms) {
        if (ms > 0 && ms % 86_400_000L == 0) return ms / 86_400_000L + (ms == 86_400_000L ? " day" : " days");
        if (ms >= 86_400_000L) return String.format(java.util.Locale.ROOT, "%.1f days", ms / 86_400_000.0);
        if (ms >= 3_600_000L) return String.format(java.util.Locale.ROOT, "%.1f hours", ms / 3_600_000.0);
        return Math.max(0, ms / 1000) + " s";
    }

    private static boolean isBlank(byte[] value) {
        for (byte b : value) {
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return false;
        }
        return true;
    }
}
