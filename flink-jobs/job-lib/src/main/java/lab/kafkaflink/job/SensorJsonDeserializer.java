package lab.kafkaflink.job;

import org.apache.flink.api.common.serialization.DeserializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/** The runtime half of {@link SensorJsonFormatFactory}: bytes of one record to one row, via {@link SensorRecordParser}. */
final class SensorJsonDeserializer implements DeserializationSchema<RowData> {

    private static final long serialVersionUID = 1L;

    private static final int EVENT_ID = 0, SENSOR_ID = 1, TS = 2, TEMPERATURE = 3, HUMIDITY = 4, PRESSURE = 5, BATTERY = 6, SEQ = 7,
            PARSE_ERROR = 8, RAW = 9;
    private static final String[] NAMES = {"event_id", "sensor_id", "ts", "temperature", "humidity", "pressure", "battery", "seq", "parse_error", "raw"};

    private final int[] columns;
    private final int maxRecordChars;
    private final long futureToleranceMs;
    private final TypeInformation<RowData> producedType;
    private transient SensorRecordParser parser;

    SensorJsonDeserializer(int[] columns, int maxRecordChars, long futureToleranceMs, TypeInformation<RowData> producedType) {
        this.columns = columns;
        this.maxRecordChars = maxRecordChars;
        this.futureToleranceMs = futureToleranceMs;
        this.producedType = producedType;
    }

    /** The column code of a table column, after checking its name and type. */
    static int column(String name, LogicalTypeRoot type) {
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(name)) {
                LogicalTypeRoot expected = SensorJsonFormatFactory.expectedType(name);
                if (type != expected) {
                    throw new ValidationException("Column '" + name + "' of format '" + SensorJsonFormatFactory.IDENTIFIER + "' must be of type " + expected + ", not " + type + ".");
                }
                return i;
            }
        }
        throw new ValidationException("Format '" + SensorJsonFormatFactory.IDENTIFIER + "' has no column '" + name + "'; its columns are " + String.join(", ", NAMES) + ".");
    }

    @Override
    public void open(InitializationContext context) {
        parser = new SensorRecordParser(maxRecordChars, futureToleranceMs, System::currentTimeMillis);
    }

    @Override
    public RowData deserialize(byte[] message) {
        if (parser == null) parser = new SensorRecordParser(maxRecordChars, futureToleranceMs, System::currentTimeMillis);
        SensorRecordParser.Result r = parser.parse(message);
        GenericRowData row = new GenericRowData(columns.length);
        boolean ok = r.ok();
        for (int i = 0; i < columns.length; i++) {
            switch (columns[i]) {
                case EVENT_ID: row.setField(i, ok ? StringData.fromString(r.eventId) : null); break;
                case SENSOR_ID: row.setField(i, ok ? StringData.fromString(r.sensorId) : null); break;
                case TS: row.setField(i, ok ? (Object) r.ts : null); break;
                case TEMPERATURE: row.setField(i, ok ? (Object) r.temperature : null); break;
                case HUMIDITY: row.setField(i, ok ? (Object) r.humidity : null); break;
                case PRESSURE: row.setField(i, ok ? (Object) r.pressure : null); break;
                case BATTERY: row.setField(i, ok ? (Object) r.battery : null); break;
                case SEQ: row.setField(i, ok ? (Object) r.seq : null); break;
                case PARSE_ERROR: row.setField(i, ok ? null : StringData.fromString(r.error)); break;
                case RAW: row.setField(i, message); break;
                default: throw new IllegalStateException("column " + columns[i]);
            }
        }
        return row;
    }

    @Override
    public boolean isEndOfStream(RowData nextElement) {
        return false;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return producedType;
    }
}
