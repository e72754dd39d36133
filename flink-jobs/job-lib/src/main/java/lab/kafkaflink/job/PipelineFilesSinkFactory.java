package lab.kafkaflink.job;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

import org.apache.flink.api.common.serialization.BulkWriter;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.connector.ChangelogMode;
import org.apache.flink.table.connector.sink.DynamicTableSink;
import org.apache.flink.table.connector.sink.SinkV2Provider;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.factories.DynamicTableSinkFactory;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.types.logical.RowType;

/**
 * {@code 'connector' = 'pipeline-files'}: the job's output files. Rows become lines of CSV (with a header in every file)
 * or JSON objects in part files {@code <prefix>-<uuid>-<subtask>-<n>.csv|.jsonl} directly under {@code path}. A part file
 * is written hidden ({@code .<prefix>…inprogress…}) and made visible when the checkpoint that covers it completes:
 * each row is in exactly one committed file, also after a crash (Flink's FileSink with its on-checkpoint rolling).
 */
public final class PipelineFilesSinkFactory implements DynamicTableSinkFactory {

    public static final String IDENTIFIER = "pipeline-files";

    public static final ConfigOption<String> PATH = ConfigOptions.key("path").stringType().noDefaultValue()
            .withDescription("The folder of the part files.");
    public static final ConfigOption<String> FORMAT = ConfigOptions.key("format").stringType().defaultValue("jsonl")
            .withDescription("csv (with a header) or jsonl.");
    public static final ConfigOption<String> FILE_PREFIX = ConfigOptions.key("file-prefix").stringType().defaultValue("part")
            .withDescription("The start of each part file's name.");

    @Override
    public DynamicTableSink createDynamicTableSink(Context context) {
        FactoryUtil.TableFactoryHelper helper = FactoryUtil.createTableFactoryHelper(this, context);
        helper.validate();
        String format = helper.getOptions().get(FORMAT);
        RowLineEncoder.Kind kind;
        if ("csv".equals(format)) kind = RowLineEncoder.Kind.CSV;
        else if ("jsonl".equals(format)) kind = RowLineEncoder.Kind.JSONL;
        else throw new ValidationException("Option 'format' of connector '" + IDENTIFIER + "' must be csv or jsonl, not '" + format + "'.");
        RowType rowType = (RowType) context.getPhysicalRowDataType().getLogicalType();
        return new Sink(helper.getOptions().get(PATH), kind, helper.getOptions().get(FILE_PREFIX), new RowLineEncoder(kind, rowType));
    }

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        Set<ConfigOption<?>> options = new HashSet<>();
        options.add(PATH);
        return options;
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        Set<ConfigOption<?>> options = new HashSet<>();
        options.add(FORMAT);
        options.add(FILE_PREFIX);
        return options;
    }

    private static final class Sink implements DynamicTableSink {
        private final String path;
        private final RowLineEncoder.Kind kind;
        private final String prefix;
        private final RowLineEncoder encoder;

        Sink(String path, RowLineEncoder.Kind kind, String prefix, RowLineEncoder encoder) {
            this.path = path;
            this.kind = kind;
            this.prefix = prefix;
            this.encoder = encoder;
        }

        @Override
        public ChangelogMode getChangelogMode(ChangelogMode requestedMode) {
            return ChangelogMode.insertOnly();
        }

        @Override
        public SinkRuntimeProvider getSinkRuntimeProvider(Context context) {
            FileSink<RowData> sink = FileSink.forBulkFormat(new Path(path), new LineWriterFactory(encoder))
                    .withBucketAssigner(new BasePathBucketAssigner<>())
                    .withOutputFileConfig(OutputFileConfig.builder().withPartPrefix(prefix)
                            .withPartSuffix(kind == RowLineEncoder.Kind.CSV ? ".csv" : ".jsonl").build())
                    .build();
            return SinkV2Provider.of(sink);
        }

        @Override
        public DynamicTableSink copy() {
            return new Sink(path, kind, prefix, encoder);
        }

        @Override
        public String asSummaryString() {
            return IDENTIFIER + "(" + kind.name().toLowerCase() + ")";
        }
    }

    /** Bulk writers roll on every checkpoint, which is what makes a committed file final. */
    static final class LineWriterFactory implements BulkWriter.Factory<RowData> {
        private static final long serialVersionUID = 1L;
        private final RowLineEncoder encoder;

        LineWriterFactory(RowLineEncoder encoder) {
            this.encoder = encoder;
        }

        @Override
        public BulkWriter<RowData> create(FSDataOutputStream out) throws IOException {
            String header = encoder.header();
            if (header != null) out.write((header + "\n").getBytes(StandardCharsets.UTF_8));
            return new BulkWriter<>() {
                private final StringBuilder line = new StringBuilder(256);

                @Override
                public void addElement(RowData row) throws IOException {
                    line.setLength(0);
                    encoder.append(row, line);
                    line.append('\n');
                    out.write(line.toString().getBytes(StandardCharsets.UTF_8));
                }

                @Override
                public void flush() throws IOException {
                    out.flush();
                }

                @Override
                public void finish() throws IOException {
                    out.flush();
                }
            };
        }
    }
}
