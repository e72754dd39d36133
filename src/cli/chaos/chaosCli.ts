// `pipeline chaos`: the fault suite (each fault during a run with events flowing, then every event counted once) and the soak.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../shared/errors';
import { ensureJobRuntime } from '../../local/flinkRuntime';
import { ensurePythonEnv } from '../../local/pythonEnv';
import { summarizeLag } from '../../kafka/lag';
import { parseBootstrapServers } from '../../kafka/kafkaClient';
import { groupMembers, processGroupRss, sleep } from '../../local/proc';
import { LocalStack } from '../../local/stack';
import { KafkaAdminClient } from '../../kafka/kafkaAdmin';
import { numberFlag, workspaceOption, type CliCommand, type CliContext } from '../context';
import { FAULTS, Stage, type ChaosContext, type FaultName, type FaultResult } from './faults';
import { ORACLE_LINE } from './oracle';

const MB = 1024 * 1024;

/** A small seeded generator (mulberry32): the same --seed, the same kill points. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const count = (n: number) => (Number.isFinite(n) ? String(n) : '-');

/** The table of `pipeline chaos`; its last line names the oracle of the lost and duplicated columns. */
export function formatChaosTable(results: FaultResult[]): string[] {
  const rows = [
    ['fault', 'events', 'lost', 'duplicated', 'recovery s', 'note'],
    ...results.map((r) => [
      r.fault,
      count(r.events),
      count(r.lost),
      count(r.duplicated),
      r.recoverySeconds === undefined ? '-' : r.recoverySeconds.toFixed(1),
      r.note ?? '',
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return [
    ...rows.map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    ),
    ORACLE_LINE,
  ];
}

/** Open file descriptors of every process of a group. */
function openFiles(pgid: number | undefined): number {
  if (!pgid) return 0;
  return groupMembers(pgid).reduce((n, pid) => {
    try {
      return n + readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      return n;
    }
  }, 0);
}

async function soak(ctx: CliContext, chaos: ChaosContext, minutes: number, rate: number): Promise<number> {
  const stage = new Stage(chaos, 'soak', 1);
  ctx.progress(`[soak] ${rate} events/s for ${minutes} min: RSS, lag and open files every 15 s…`);
  await stage.setUp();
  stage.startGenerator(rate, { durationSeconds: minutes * 60 });
  const admin = new KafkaAdminClient({ bootstrapServers: parseBootstrapServers(stage.bootstrap) }, 10_000);
  const samples: string[][] = [['min', 'broker MB', 'job MB', 'generator MB', 'lag records', 'open files (broker/job/gen)']];
  const started = Date.now();
  try {
    while (stage.generator.running() && !ctx.signal.aborted) {
      await sleep(15_000);
      const broker = stage.stack.nodePid('single', 1);
      const job = stage.job.record()?.pid;
      const gen = stage.generator.record()?.pid;
      const lag = summarizeLag(await admin.describeGroupLag(`chaos-${stage.name}`, [stage.topic]).catch(() => [])).total;
      const row = [
        ((Date.now() - started) / 60_000).toFixed(1),
        broker ? (processGroupRss(broker) / MB).toFixed(0) : '-',
        job ? (processGroupRss(job) / MB).toFixed(0) : '-',
        gen ? (processGroupRss(gen) / MB).toFixed(0) : '-',
        lag === undefined ? '-' : String(lag),
        `${openFiles(broker)}/${openFiles(job)}/${openFiles(gen)}`,
      ];
      samples.push(row);
      ctx.progress(`  ${row.join('  ')}`);
    }
    if (ctx.signal.aborted) throw new UserError('Interrupted.');
    const counted = await stage.account();
    const widths = samples[0].map((_, i) => Math.max(...samples.map((r) => r[i].length)));
    ctx.print('');
    for (const r of samples) ctx.print(r.map((c, i) => c.padStart(widths[i])).join('  '));
    ctx.print(
      `\nsoak: ${counted.events} events in ${minutes} min, lost ${counted.lost}, duplicated ${counted.duplicated}${counted.note ? ` (${counted.note})` : ''}`,
    );
    ctx.print(ORACLE_LINE);
    return counted.lost === 0 && counted.duplicated === 0 ? 0 : 1;
  } finally {
    await admin.close();
    await stage.tearDown();
  }
}

export const chaosCli: CliCommand = {
  usage:
    'pipeline chaos [--only broker-restart,job-kill-x3,output-unwritable,broker-then-job-kill,broker-loss-of-3] [--quick] [--events N] [--seed S] [--soak MINUTES [--rate EPS]] [--keep]',
  summary:
    'the fault suite: each fault during a run with events flowing (broker SIGKILL and restart; the job SIGKILLed three times; one of three brokers lost and back; the output folder unwritable for 20 s; the broker SIGKILLed and restarted, then the job SIGKILLed and restarted, in one run), then a table of events, lost, duplicated and recovery seconds, counted by an oracle of its own: the input topic read from its start against the committed files, per sensor and window; --quick: all but the three-broker fault; --soak: 5,000 events/s for MINUTES with RSS, lag and open files over time. Runs in a throw-away workspace on the local ports (stop your stack first)',
  options: {
    ...workspaceOption,
    only: { type: 'string' },
    quick: { type: 'boolean' },
    events: { type: 'string' },
    seed: { type: 'string' },
    soak: { type: 'string' },
    rate: { type: 'string' },
    keep: { type: 'boolean' },
  },
  async run(ctx) {
    const names = Object.keys(FAULTS) as FaultName[];
    const only =
      (ctx.values.only as string | undefined)?.split(',').map((s) => s.trim()) ?? names.filter((n) => !ctx.values.quick || FAULTS[n].quick);
    const unknown = only.filter((n) => !names.includes(n as FaultName));
    if (unknown.length) throw new UserError(`Unknown fault ${unknown.join(', ')}: use ${names.join(', ')}.`);
    if (new LocalStack(ctx.workspace).runningMode())
      throw new UserError(
        'The local Kafka stack of this workspace is running: stop it (`pipeline stack down`) so the chaos suite can start its own on the same ports.',
      );
    const seed = numberFlag(ctx, 'seed', Date.now() % 100_000)!;
    const python = await ensurePythonEnv(ctx.progress);
    const runtime = await ensureJobRuntime(python, ctx.progress);
    const workspace = mkdtempSync(join(tmpdir(), 'kfl-chaos-'));
    const chaos: ChaosContext = {
      workspace,
      python,
      runtime,
      events: numberFlag(ctx, 'events', 30_000)!,
      progress: ctx.progress,
      signal: ctx.signal,
      random: seeded(seed),
    };
    try {
      if (ctx.values.soak !== undefined) return await soak(ctx, chaos, numberFlag(ctx, 'soak')!, numberFlag(ctx, 'rate', 5000)!);
      ctx.progress(`Chaos suite in ${workspace} (seed ${seed}): ${only.join(', ')}`);
      const results: FaultResult[] = [];
      for (const name of only as FaultName[]) {
        if (ctx.signal.aborted) break;
        try {
          results.push(await FAULTS[name].run(chaos));
        } catch (error) {
          results.push({
            fault: name,
            events: NaN,
            lost: NaN,
            duplicated: NaN,
            note: `did not complete: ${(error as Error).message}`,
          });
        }
        ctx.progress(`  ${formatChaosTable(results).slice(-2)[0]}`);
      }
      ctx.print('');
      for (const line of formatChaosTable(results)) ctx.print(line);
      ctx.print(`\nseed ${seed} (--seed ${seed} repeats the kill points)`);
      return results.every((r) => r.lost === 0 && r.duplicated === 0) ? 0 : 1;
    } finally {
      if (ctx.values.keep) ctx.progress(`Kept the workspace with its logs: ${workspace}`);
      else rmSync(workspace, { recursive: true, force: true });
    }
  },
};
