package lab.kafkaflink.job;

import java.io.Serializable;
import java.util.List;

import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.RowType;

/**
 * One table row as one line of text: CSV (RFC 4180 quoting, a header of the column names) or a JSON object with the
 * columns in table order. Numbers are written as Java prints them ({@code 21.25}, {@code 1.0E-4}), as Flink's own CSV
 * and JSON functions did; a non-finite double becomes an empty CSV field or JSON null.
 */
final class RowLineEncoder implements Serializable {

    private static final long serialVersionUID = 1L;

    enum Kind { CSV, JSONL }

    private final Kind kind;
    private final String[] names;
    private final RowData.FieldGetter[] getters;

    RowLineEncoder(Kind kind, RowType rowType) {
        this.kind = kind;
        List<String> fieldNames = rowType.getFieldNames();
        this.names = fieldNames.toArray(new String[0]);
        this.getters = new RowData.FieldGetter[names.length];
        for (int i = 0; i < names.length; i++) {
            LogicalType type = rowType.getTypeAt(i);
            switch (type.getTypeRoot()) {
                case VARCHAR:
                case CHAR:
                case BOOLEAN:
                case INTEGER:
                case BIGINT:
                case DOUBLE:
                    break;
                default:
                    throw new ValidationException("Column '" + names[i] + "' has type " + type + "; the pipeline-files sink writes STRING, BOOLEAN, INT, BIGINT and DOUBLE.");
            }
            getters[i] = RowData.createFieldGetter(type, i);
        }
    }

    /** The CSV header line (without the line break), or null for JSON lines. */
    String header() {
        if (kind != Kind.CSV) return null;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < names.length; i++) {
            if (i > 0) sb.append(',');
            appendCsv(sb, names[i]);
        }
        return sb.toString();
    }

    /** Appends the row's line (without the line break). */
    void append(RowData row, StringBuilder sb) {
        if (kind == Kind.JSONL) sb.append('{');
        for (int i = 0; i < names.length; i++) {
            Object v = getters[i].getFieldOrNull(row);
            if (kind == Kind.CSV) {
                if (i > 0) sb.append(',');
                if (v == null) continue;
                if (v instanceof Double && !Double.isFinite((Double) v)) continue;
                if (v instanceof Number || v instanceof Boolean) sb.append(v);
                else appendCsv(sb, v.toString());
            } else {
                if (i > 0) sb.append(',');
                appendJsonString(sb, names[i]);
                sb.append(':');
                if (v == null || (v instanceof Double && !Double.isFinite((Double) v))) sb.append("null");
                else if (v instanceof Number || v instanceof Boolean) sb.append(v);
                else appendJsonString(sb, v.toString());
            }
        }
        if (kind == Kind.JSONL) sb.append('}');
    }

    static void appendCsv(StringBuilder sb, String s) {
        boolean quote = s.isEmpty();
        for (int i = 0; i < s.length() && !quote; i++) {
            char c = s.charAt(i);
            quote = c == ',' || c == '"' || c == '\n' || c == '\r';
        }
        if (!quote) {
            sb.append(s);
            return;
        }
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') sb.append('"');
            sb.append(c);
        }
        sb.append('"');
    }

    static void appendJsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }
}
