package dev.qwen2j.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/**
 * The output folder. Each partition writes {@code rows/part-KEY.parquet} (or {@code .jsonl}) and then its ledger
 * {@code done/part-KEY.jsonl} (one {@link ProblemResult} a line), KEY hashing the settings and the partition's
 * problem ids. Each file is written under a temporary name and renamed into place, so it appears whole or not at
 * all; a partition counts as done once its ledger is there. A retried or speculative task with the same problems
 * finds its ledger and writes nothing; rows without a ledger (a task killed between the two renames) are removed
 * by the next run before it starts.
 */
final class PartitionFiles {

    static final String ROWS = "rows";
    static final String DONE = "done";
    static final String REJECTS = "rejects";
    static final String SUMMARY = "summary.json";
    private static final String PREFIX = "part-";

    private static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
            message sample {
              required binary id (STRING);
              required int32 sample;
              required binary reasoning (STRING);
              required binary answer_text (STRING);
              optional binary extracted (STRING);
              optional boolean correct;
              required int32 tokens;
              required double seconds;
              required int64 seed;
            }""");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path root;
    private final String format;
    private final Configuration conf;

    PartitionFiles(String output, String format, Configuration conf) {
        this.root = new Path(output);
        this.format = format;
        this.conf = conf;
    }

    Path root() {
        return root;
    }

    FileSystem fs() throws IOException {
        return root.getFileSystem(conf);
    }

    Path ledger(String key) {
        return new Path(new Path(root, DONE), PREFIX + key + ".jsonl");
    }

    Path rows(String key) {
        return new Path(new Path(root, ROWS), PREFIX + key + "." + format);
    }

    boolean isDone(String key) throws IOException {
        return fs().exists(ledger(key));
    }

    /** Writes a finished partition: its rows, then its ledger. */
    void write(String key, List<SampleRow> rows, List<ProblemResult> results) throws IOException {
        Path rowsFile = rows(key);
        Path temp = temp(rowsFile);
        if ("parquet".equals(format)) {
            writeParquet(temp, rows);
        } else {
            writeJsonLines(temp, rows.stream().map(PartitionFiles::jsonRow).toList());
        }
        moveIntoPlace(temp, rowsFile);
        Path ledgerTemp = temp(ledger(key));
        writeJsonLines(ledgerTemp, results);
        moveIntoPlace(ledgerTemp, ledger(key));
    }

    /** Removes rows files whose partition has no ledger: what a task killed between its two renames left. */
    int removeOrphans() throws IOException {
        FileSystem fs = fs();
        Path rowsDir = new Path(root, ROWS);
        if (!fs.exists(rowsDir)) {
            return 0;
        }
        int removed = 0;
        for (var status : fs.listStatus(rowsDir)) {
            String name = status.getPath().getName();
            boolean temp = name.startsWith(".");
            boolean orphan = name.startsWith(PREFIX) && !fs.exists(ledger(keyOf(name)));
            if ((temp || orphan) && fs.delete(status.getPath(), false)) {
                removed++;
            }
        }
        return removed;
    }

    private static String keyOf(String fileName) {
        return fileName.substring(PREFIX.length(), fileName.indexOf('.'));
    }

    private static Path temp(Path target) {
        return new Path(target.getParent(), "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
    }

    /** Renames temp to target; when another attempt got there first (same key, same content), drops temp. */
    private void moveIntoPlace(Path temp, Path target) throws IOException {
        FileSystem fs = fs();
        if (!fs.rename(temp, target)) {
            fs.delete(temp, false);
            if (!fs.exists(target)) {
                throw new IOException("cannot rename " + temp + " to " + target);
            }
        }
    }

    private void writeParquet(Path file, List<SampleRow> rows) throws IOException {
        SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(file, conf))
                .withConf(conf).withType(SCHEMA).withWriteMode(ParquetFileWriter.Mode.OVERWRITE).build()) {
            for (SampleRow row : rows) {
                Group g = groups.newGroup()
                        .append("id", row.id())
                        .append("sample", row.sample())
                        .append("reasoning", row.reasoning())
                        .append("answer_text", row.answerText());
                if (row.extracted() != null) {
                    g.append("extracted", row.extracted());
                }
                if (row.correct() != null) {
                    g.append("correct", row.correct());
                }
                g.append("tokens", row.tokens()).append("seconds", row.seconds()).append("seed", row.seed());
                writer.write(g);
            }
        }
    }

    private void writeJsonLines(Path file, List<?> values) throws IOException {
        try (OutputStream out = fs().create(file, true)) {
            for (Object value : values) {
                out.write(JSON.writeValueAsBytes(value));
                out.write('\n');
            }
        }
    }

    /** A row with the column names of the Parquet schema. */
    private static java.util.Map<String, Object> jsonRow(SampleRow r) {
        var m = new java.util.LinkedHashMap<String, Object>();
        m.put("id", r.id());
        m.put("sample", r.sample());
        m.put("reasoning", r.reasoning());
        m.put("answer_text", r.answerText());
        m.put("extracted", r.extracted());
        m.put("correct", r.correct());
        m.put("tokens", r.tokens());
        m.put("seconds", r.seconds());
        m.put("seed", r.seed());
        return m;
    }
}
