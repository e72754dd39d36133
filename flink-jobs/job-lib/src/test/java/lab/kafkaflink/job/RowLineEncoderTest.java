package lab.kafkaflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.factories.Factory;
import org.apache.flink.table.types.logical.BigIntType;
import org.apache.flink.table.types.logical.DoubleType;
import org.apache.flink.table.types.logical.IntType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.VarCharType;
import org.junit.jupiter.api.Test;

class RowLineEncoderTest {

    private static final RowType ROW = RowType.of(
            new org.apache.flink.table.types.logical.LogicalType[] {VarCharType.STRING_TYPE, new BigIntType(), new DoubleType(), new IntType()},
            new String[] {"sensor_id", "event_count", "avg_temperature", "partition"});

    private static GenericRowData row(String s, Long n, Double d, Integer i) {
        return GenericRowData.of(s == null ? null : StringData.fromString(s), n, d, i);
    }

    private static String line(RowLineEncoder.Kind kind, GenericRowData row) {
        StringBuilder sb = new StringBuilder();
        new RowLineEncoder(kind, ROW).append(row, sb);
        return sb.toString();
    }

    @Test
    void csvQuotesOnlyWhatNeedsIt() {
        assertEquals("sensor_id,event_count,avg_temperature,partition", new RowLineEncoder(RowLineEncoder.Kind.CSV, ROW).header());
        assertEquals("sensor-1,3,21.25,0", line(RowLineEncoder.Kind.CSV, row("sensor-1", 3L, 21.25, 0)));
        assertEquals("\"a,b\",1,1.0E-4,2", line(RowLineEncoder.Kind.CSV, row("a,b", 1L, 1.0e-4, 2)));
        assertEquals("\"say \"\"hi\"\"\nnow\",,,", line(RowLineEncoder.Kind.CSV, row("say \"hi\"\nnow", null, Double.NaN, null)));
        assertEquals("\"\",0,0.0,0", line(RowLineEncoder.Kind.CSV, row("", 0L, 0.0, 0)));
    }

    @Test
    void jsonLinesEscapeTextAndWriteNullForMissingNumbers() {
        assertEquals("{\"sensor_id\":\"sensor-1\",\"event_count\":3,\"avg_temperature\":21.25,\"partition\":0}",
                line(RowLineEncoder.Kind.JSONL, row("sensor-1", 3L, 21.25, 0)));
        assertEquals("{\"sensor_id\":\"q\\\"\\\\\\n\\u0001é\",\"event_count\":null,\"avg_temperature\":null,\"partition\":null}",
                line(RowLineEncoder.Kind.JSONL, row("q\"\\\n\u0001é", null, Double.POSITIVE_INFINITY, null)));
    }

    @Test
    void refusesColumnTypesItCannotWrite() {
        RowType withTimestamp = RowType.of(new org.apache.flink.table.types.logical.LogicalType[] {new TimestampType(3)}, new String[] {"t"});
        ValidationException e = assertThrows(ValidationException.class, () -> new RowLineEncoder(RowLineEncoder.Kind.CSV, withTimestamp));
        assertTrue(e.getMessage().contains("Column 't'"), e.getMessage());
    }

    @Test
    void aCsvFileStartsWithItsHeaderAndHasOneLinePerRow() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FSDataOutputStream out = new FSDataOutputStream() {
            @Override public long getPos() { return bytes.size(); }
            @Override public void write(int b) { bytes.write(b); }
            @Override public void flush() { }
            @Override public void sync() { }
            @Override public void close() { }
        };
        BulkWriter<org.apache.flink.table.data.RowData> writer =
                new PipelineFilesSinkFactory.LineWriterFactory(new RowLineEncoder(RowLineEncoder.Kind.CSV, ROW)).create(out);
        writer.addElement(row("s1", 1L, 20.0, 0));
        writer.addElement(row("s2", 2L, 21.5, 1));
        writer.finish();
        assertEquals("sensor_id,event_count,avg_temperature,partition\ns1,1,20.0,0\ns2,2,21.5,1\n", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void flinkFindsTheFormatAndTheSink() {
        Set<String> ids = StreamSupport.stream(ServiceLoader.load(Factory.class).spliterator(), false)
                .map(Factory::factoryIdentifier).collect(Collectors.toSet());
        assertTrue(ids.contains("sensor-json") && ids.contains("pipeline-files"), ids.toString());
    }
}
