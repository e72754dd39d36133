import { currentJob, normalizeRestUrl } from '../core/flinkJobs';
import { errorMessage } from '../core/errors';
import { fetchJobsOverview, type FlinkJobSummary } from '../core/flinkRest';

export interface FlinkOverview {
  reachable: boolean;
  jobs: FlinkJobSummary[];
  /** The job to show (running or starting first, else the newest). */
  current?: FlinkJobSummary;
  /** Why it is not reachable. */
  error?: string;
}

/**
 * The Flink REST API (a session cluster's JobManager, or the PyFlink MiniCluster of `pipeline job start`). Only
 * reads, with a bounded time; "not reachable" is an answer, not an error: a stopped local job has no REST API.
 */
export class FlinkRestClient {
  constructor(
    readonly address: string,
    private readonly timeoutMs = 2500,
  ) {}

  async overview(): Promise<FlinkOverview> {
    const { url, error } = normalizeRestUrl(this.address);
    if (!url) return { reachable: false, jobs: [], error };
    try {
      const jobs = await fetchJobsOverview(url, this.timeoutMs);
      return { reachable: true, jobs, current: currentJob(jobs) };
    } catch (e) {
      return { reachable: false, jobs: [], error: errorMessage(e) };
    }
  }
}
