// The context keys the extension sets for `when` clauses, in one enum with one setter.
import * as vscode from 'vscode';

/** Every context key the extension sets; `when` clauses in package.json use these names. */
export enum ContextKey {
  /** The primary cluster answers. */
  BrokerUp = 'kafkaFlinkLab.brokerUp',
  /** A broker of the local stack runs (its pid file points at a live Kafka process). */
  LocalStackRunning = 'kafkaFlinkLab.localStackRunning',
  GeneratorRunning = 'kafkaFlinkLab.generatorRunning',
  JobRunning = 'kafkaFlinkLab.jobRunning',
  /** The bootstrap servers setting points at the local stack's address. */
  PrimaryIsLocal = 'kafkaFlinkLab.primaryIsLocal',
  /** What the Flink view shows: `job`, `noJob` (its welcome content) or `unreachable`. */
  FlinkView = 'kafkaFlinkLab.flinkView',
  /** A Flink SQL statement was run in this window: the Flink SQL Statements view shows from then on. */
  SqlStatementsShown = 'kafkaFlinkLab.sqlStatementsShown',
}

const known = new Set<string>(Object.values(ContextKey));
const current = new Map<ContextKey, unknown>();

/** Sets a context key, refusing unknown names and skipping unchanged values. */
export async function setContextKey(key: ContextKey, value: unknown): Promise<void> {
  if (!known.has(key)) throw new Error(`Unknown context key ${String(key)}`);
  if (current.has(key) && current.get(key) === value) return;
  current.set(key, value);
  await vscode.commands.executeCommand('setContext', key, value);
}
