// The message browser's contract: what a scan of a topic is asked for, and what it gives back page by page.
// The reader (topicScan.ts), the `pipeline messages` command line and the browser panel all speak these types.

/** Where a scan starts, per partition. */
export type ScanStart =
  | { kind: 'earliest' }
  /** The newest `count` records of each chosen partition. */
  | { kind: 'newest'; count: number }
  /** An offset per partition; a partition not named starts at its earliest. */
  | { kind: 'offsets'; offsets: Record<number, number> }
  /** The first offset at or after this time, per partition (Kafka's offsets-for-times); nothing newer → its end. */
  | { kind: 'timestamp'; timestampMs: number }
  /** Only what arrives after the scan starts. */
  | { kind: 'tail' };

export type Isolation = 'committed' | 'uncommitted';

export interface ScanRequest {
  topic: string;
  /** The chosen partitions, or every partition of the topic. */
  partitions: number[] | 'all';
  start: ScanStart;
  isolation: Isolation;
  /**
   * A DuckDB boolean expression over kafka_partition, kafka_offset, kafka_timestamp (TIMESTAMP, UTC), key, value,
   * json (the value parsed when it is JSON), headers (MAP(VARCHAR, VARCHAR)), size; empty or undefined: every record.
   */
  where?: string;
  /** The most matching records on one page. */
  limit: number;
  /** Records at or after this time only, and before `untilMs` (the histogram's drag); both optional. */
  sinceMs?: number;
  untilMs?: number;
}

/** One record as the browser shows it. Key, value and header values are text (UTF-8, or base64 when they are not). */
export interface ScanRecord {
  partition: number;
  offset: number;
  /** Epoch milliseconds. */
  timestamp: number;
  key: string | null;
  value: string | null;
  /** 'base64' when the value is not valid UTF-8 and is shown as base64. */
  valueEncoding?: 'base64';
  headers: Record<string, string | null>;
  keySize: number;
  valueSize: number;
  /** Key + value + header bytes. */
  size: number;
}

export interface PartitionPosition {
  partition: number;
  /** The next offset the scan reads. */
  position: number;
  /** Where the scan of this partition ends: the end offset fixed when the scan started (exclusive). */
  end: number;
}

/** Offsets the scan passed that delivered no record: a transaction marker, or an aborted record under read_committed. */
export interface OffsetGap {
  partition: number;
  /** First skipped offset, inclusive. */
  from: number;
  /** Last skipped offset, inclusive. */
  to: number;
}

export interface HistogramBucket {
  startMs: number;
  /** Records scanned in [startMs, startMs + widthMs). */
  all: number;
  matched: number;
}

export interface ScanProgress {
  scannedMessages: number;
  scannedBytes: number;
  matched: number;
  positions: PartitionPosition[];
}

/** Where the next page continues: each partition's next offset, and the ends fixed at the first page. */
export interface ScanCursor {
  positions: PartitionPosition[];
}

/** A partition that delivers no batch for this long while not at its end stops the page (`stopped: 'stalled'`; the cursor keeps its place); a tail waits on. */
export const SCAN_STALL_MS = 15_000;
/** The most gaps a page lists; the rest are counted (`gapsOmitted`). */
export const MAX_LISTED_GAPS = 1000;

export interface ScanPage {
  records: ScanRecord[];
  progress: ScanProgress;
  /** Undefined when every chosen partition reached its end: there is no next page. */
  cursor: ScanCursor | undefined;
  gaps: OffsetGap[];
  histogram: { widthMs: number; buckets: HistogramBucket[] };
  /** True when a Cancel ended the page early. */
  cancelled: boolean;
  /** Gaps left out of `gaps` once it holds its most (1,000); they are only counted. */
  gapsOmitted?: number;
  /** The page ended before its limit or the ends without a Cancel: the time limit, or no batch for 15 s. */
  stopped?: 'timeout' | 'stalled';
}
