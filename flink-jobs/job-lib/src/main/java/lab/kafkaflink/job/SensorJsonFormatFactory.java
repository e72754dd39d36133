package lab.kafkaflink.job;

import java.util.Collections;
import java.util.HashSet;
import java.util.Set;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.format.DecodingFormat;
import org.apache.flink.table.connector.source.DynamicTableSource;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DeserializationFormatFactory;
import org.apache.flink.table.factories.DynamicTableFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.RowType;

/**
 * {@code 'value.format' = 'sensor-json'}: a Kafka record value of the sensor event contract, parsed once into the
 * table's columns. The columns it fills, by name: {@code event_id, sensor_id STRING; ts, seq BIGINT; temperature,
 * humidity, pressure, battery DOUBLE; parse_error STRING} (the dead-letter reason, NULL for a good event) and
 * {@code raw BYTES} (the record exactly as sent). It never fails on a record: a bad one is a row with parse_error.
 */
public final class SensorJsonFormatFactory implements DeserializationFormatFactory {

    public static final String IDENTIFIER = "sensor-json";

    public static final ConfigOption<Integer> MAX_RECORD_CHARS = ConfigOptions.key("max-record-chars")
            .intType()
            .defaultValue(65536)
            .withDescription("Records longer than this are dead-lettered as oversized without being parsed.");

    public static final ConfigOption<Long> FUTURE_TOLERANCE_MS = ConfigOptions.key("future-tolerance-ms")
            .longType()
            .defaultValue(SensorRecordParser.DEFAULT_FUTURE_TOLERANCE_MS)
            .withDescription("An event time further ahead of now than this is dead-lettered as a future timestamp.");

    @Override
    public DecodingFormat<DeserializationSchema<RowData>> createDecodingFormat(DynamicTableFactory.Context context, ReadableConfig formatOptions) {
        FactoryUtil.validateFactoryOptions(this, formatOptions);
        int maxChars = formatOptions.get(MAX_RECORD_CHARS);
        if (maxChars <= 0) throw new ValidationException("'" + IDENTIFIER + ".max-record-chars' must be > 0, not " + maxChars + ".");
        long tolerance = formatOptions.get(FUTURE_TOLERANCE_MS);
        if (tolerance < 0) throw new ValidationException("'" + IDENTIFIER + ".future-tolerance-ms' must be >= 0, not " + tolerance + ".");
        return new DecodingFormat<>() {
            @Override
            public DeserializationSchema<RowData> createRuntimeDecoder(DynamicTableSource.Context sourceContext, DataType physicalDataType) {
                RowType rowType = (RowType) physicalDataType.getLogicalType();
                int[] columns = new int[rowType.getFieldCount()];
                for (int i = 0; i < columns.length; i++) {
                    columns[i] = SensorJsonDeserializer.column(rowType.getFieldNames().get(i), rowType.getTypeAt(i).getTypeRoot());
                }
                return new SensorJsonDeserializer(columns, maxChars, tolerance, sourceContext.createTypeInformation(physicalDataType));
            }

            @Override
            public ChangelogMode getChangelogMode() {
                return ChangelogMode.insertOnly();
            }
        };
    }

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Collections.emptySet();
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        Set<ConfigOption<?>> options = new HashSet<>();
        options.add(MAX_RECORD_CHARS);
        options.add(FUTURE_TOLERANCE_MS);
        return options;
    }

    /** The SQL type each known column must have. */
    static LogicalTypeRoot expectedType(String column) {
        switch (column) {
            case "event_id":
            case "sensor_id":
            case "parse_error":
                return LogicalTypeRoot.VARCHAR;
            case "ts":
            case "seq":
                return LogicalTypeRoot.BIGINT;
            case "temperature":
            case "humidity":
            case "pressure":
            case "battery":
                return LogicalTypeRoot.DOUBLE;
            case "raw":
                return LogicalTypeRoot.VARBINARY;
            default:
                return null;
        }
    }
}
