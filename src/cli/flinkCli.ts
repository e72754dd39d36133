// `pipeline flink up|down|status`: the local Flink session cluster (a JobManager and TaskManagers as separate JVMs).
import { DEFAULT_CLUSTER_SHAPE, LocalFlinkCluster, SQL_GATEWAY } from '../local/flinkCluster';
import { readGatewayCredentials, sqlGatewayUrl, startSqlGateway } from '../local/sqlGateway';
import { fetchGatewayInfo } from '../flink/sqlGatewayClient';
import { fetchJobsOverview, fetchTaskManagers } from '../flink/flinkRest';
import type { FlinkJobSummary, TaskManagerInfo } from '../flink/flinkRestTypes';
import { ensureJobRuntime } from '../local/flinkRuntime';
import { ensurePythonEnv } from '../local/pythonEnv';
import { sleep } from '../local/proc';
import { validatePositiveInt } from '../config/validation';
import { checkedNumber, workspaceOption, type CliCommand } from './context';

export const flinkCli: Record<string, CliCommand> = {
  'flink up': {
    usage: 'pipeline flink up [--taskmanagers N] [--slots S] [--follow]',
    summary: `start a local Flink session cluster from PyFlink's Flink distribution: a JobManager (REST http://127.0.0.1:8081), N TaskManagers (default 2, 2 slots each) and Flink's SQL Gateway (https://127.0.0.1:8083, mutual TLS with the workspace's own certificate) as separate JVMs, every port on 127.0.0.1; --follow keeps it in the foreground until Ctrl-C`,
    options: { ...workspaceOption, taskmanagers: { type: 'string' }, slots: { type: 'string' }, follow: { type: 'boolean' } },
    async run(ctx) {
      const started = Date.now();
      const shape = {
        taskManagers:
          checkedNumber(ctx, 'taskmanagers', (v) => validatePositiveInt(v, '--taskmanagers', 8)) ?? DEFAULT_CLUSTER_SHAPE.taskManagers,
        slots: checkedNumber(ctx, 'slots', (v) => validatePositiveInt(v, '--slots', 16)) ?? DEFAULT_CLUSTER_SHAPE.slots,
      };
      const python = await ensurePythonEnv(ctx.progress);
      const runtime = await ensureJobRuntime(python, ctx.progress);
      const cluster = new LocalFlinkCluster(ctx.workspace);
      const result = await cluster.up(shape, python, `${runtime.runtimeDir}/lib`, ctx.progress, ctx.signal);
      const gateway = await startSqlGateway(cluster, python, `${runtime.runtimeDir}/lib`, ctx.progress, process.env, ctx.signal);
      const overview = await cluster.fetchOverview();
      ctx.print(
        result.alreadyRunning && gateway.alreadyRunning
          ? `The Flink cluster is already running: ${cluster.restUrl}, SQL Gateway ${sqlGatewayUrl()}.`
          : `Flink ${overview?.flinkVersion ?? ''} session cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${cluster.restUrl}, ${overview?.taskManagers ?? 0} TaskManagers, ${overview?.slotsTotal ?? 0} slots; SQL Gateway ${sqlGatewayUrl()}. Logs in ${cluster.logDir}.`,
      );
      if (!ctx.values.follow) return 0;
      ctx.progress('Press Ctrl-C to stop the cluster.');
      while (!ctx.signal.aborted && cluster.running()) await sleep(500);
      await cluster.down(ctx.progress);
      return 0;
    },
  },
  'flink down': {
    usage: 'pipeline flink down',
    summary: 'stop the local Flink session cluster (TaskManagers, then the JobManager); jobs on it are cancelled with it',
    options: { ...workspaceOption },
    async run(ctx) {
      const stopped = await new LocalFlinkCluster(ctx.workspace).down(ctx.progress);
      ctx.print(stopped.length === 0 ? 'The Flink cluster was not running.' : `Stopped ${stopped.join(', ')}.`);
      return 0;
    },
  },
  'flink status': {
    usage: 'pipeline flink status [--json]',
    summary: 'the local Flink session cluster: JobManager address, TaskManagers with free/total slots, running jobs',
    options: { ...workspaceOption, json: { type: 'boolean' } },
    async run(ctx) {
      const cluster = new LocalFlinkCluster(ctx.workspace);
      const processes = cluster.processes();
      const gatewayPid = cluster.pidOf(SQL_GATEWAY);
      const [overview, gatewayInfo] = await Promise.all([
        cluster.fetchOverview(),
        gatewayPid ? fetchGatewayInfo(sqlGatewayUrl(), readGatewayCredentials(cluster), 2000) : undefined,
      ]);
      const gateway = {
        url: sqlGatewayUrl(),
        pid: gatewayPid,
        state: gatewayInfo ? 'up' : gatewayPid ? 'not answering' : 'down',
        auth: 'mutual TLS (client certificate in .pipeline/flink-cluster/gateway/credentials)',
      };
      let taskManagers: TaskManagerInfo[] = [];
      let jobs: FlinkJobSummary[] = [];
      if (overview) {
        [taskManagers, jobs] = await Promise.all([
          fetchTaskManagers(cluster.restUrl, 2000).catch(() => []),
          fetchJobsOverview(cluster.restUrl, 2000).catch(() => []),
        ]);
      }
      const state = overview ? 'up' : cluster.running() ? 'starting' : 'down';
      if (ctx.values.json) {
        ctx.print(
          JSON.stringify(
            {
              state,
              jobManager: cluster.restUrl,
              processes,
              taskManagers,
              sqlGateway: gateway,
              jobs: jobs.filter((j) => j.state === 'RUNNING'),
            },
            null,
            2,
          ),
        );
        return state === 'up' ? 0 : 3;
      }
      if (state === 'down') {
        ctx.print('Flink cluster: DOWN (start it with `pipeline flink up`).');
        return 3;
      }
      ctx.print(
        `Flink cluster: ${state.toUpperCase()}  JobManager ${cluster.restUrl}${overview ? ` (Flink ${overview.flinkVersion})` : ' (not answering yet)'}`,
      );
      for (const p of processes) ctx.print(`  ${p.name.padEnd(14)} ${p.running ? `pid ${p.pid}` : 'not running'}`);
      for (const t of taskManagers) ctx.print(`  TaskManager ${t.id}: ${t.slotsFree} of ${t.slotsTotal} slots free`);
      ctx.print(
        `  SQL Gateway    ${gateway.url} ${gateway.state.toUpperCase()}${gatewayPid ? ` (pid ${gatewayPid}, ${gateway.auth})` : ' (`pipeline flink up` starts it)'}`,
      );
      const running = jobs.filter((j) => j.state === 'RUNNING');
      ctx.print(running.length ? running.map((j) => `  job ${j.jid} RUNNING ${j.name}`).join('\n') : '  no running job');
      return state === 'up' ? 0 : 3;
    },
  },
};
