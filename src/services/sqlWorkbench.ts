// The editor's Flink SQL sessions: one lab session per gateway and table set, on the local SQL Gateway (its client certificate) or the one a setting names.
import { join } from 'node:path';
import { LAB_ALERTS_TOPIC, type LabTableOptions, type ReadMode } from '../flink/labTables';
import { LabSqlSession } from '../flink/sqlSession';
import { LocalFlinkCluster } from '../local/flinkCluster';
import { chooseSqlGateway, LOCAL_SESSION_PROPERTIES } from '../local/sqlGateway';
import { kafkaSecurityOptions } from '../pipeline/kafkaTableSecurity';
import { NO_SECURITY } from '../kafka/clusterSecurity';
import { UserError } from '../shared/errors';
import type { KafkaConnections } from './connections';
import { Disposable } from './lifecycle';
import type { Log } from './log';
import { extensionConfig } from './settings';

/** The local SQL Gateway does not run: the panel offers to start the local cluster with it. */
export class GatewayDown extends UserError {}

/**
 * Sessions for the editor's statements. The tables follow the settings (topic, output folder, the pipeline's
 * cluster); a change of any of them, or of the gateway, opens a new session. Every session is closed on dispose.
 */
export class SqlWorkbench extends Disposable {
  private current: { key: string; session: LabSqlSession; gateway: string; local: boolean } | undefined;

  constructor(
    private readonly workspace: string,
    private readonly connections: KafkaConnections,
    private readonly log: Log,
  ) {
    super();
    this._register({ dispose: () => void this.close() });
  }

  /** The session for the current settings, opened on first use. */
  async session(): Promise<{ session: LabSqlSession; local: boolean; gateway: string }> {
    const config = extensionConfig();
    const named = config.sqlGatewayUrl();
    const access = await this.connections.pipelineAccess();
    const tables: LabTableOptions = {
      topic: config.topic().value,
      alertsTopic: LAB_ALERTS_TOPIC,
      bootstrapServers: access.bootstrapServers,
      aggregatesDir: join(config.outputFolder().value, 'aggregates'),
      groupId: `kafka-flink-lab-sql-vscode-${process.pid}`,
    };
    const choice = chooseSqlGateway(named, access.security !== undefined, new LocalFlinkCluster(this.workspace));
    if (choice.local && !choice.client)
      throw new GatewayDown('The local SQL Gateway is not running: it starts with the local Flink cluster (`pipeline flink up`).');
    const client = choice.client!;
    if (choice.local) tables.kafkaSecurity = kafkaSecurityOptions(access.security ?? NO_SECURITY, access.password);
    const key = JSON.stringify({ gateway: client.baseUrl, tables });
    if (this.current?.key !== key) {
      await this.close();
      const properties = named.value ? {} : LOCAL_SESSION_PROPERTIES;
      this.current = { key, session: new LabSqlSession(client, tables, properties), gateway: client.baseUrl, local: choice.local };
      this.log.info(`Flink SQL: a new session on ${client.baseUrl} over ${tables.topic} (${tables.bootstrapServers}).`);
    }
    return { session: this.current.session, local: !named.value, gateway: client.baseUrl };
  }

  /** The offsets a bounded statement reads up to: each partition's end, now. */
  async boundedMode(from: ReadMode['from']): Promise<ReadMode> {
    const config = extensionConfig();
    const admin = await this.connections.client();
    const ends = async (topic: string): Promise<Map<number, number>> => {
      const offsets = await admin.fetchPartitionOffsets(topic).catch(() => []);
      return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
    };
    return { from, boundedAt: { sensorData: await ends(config.topic().value), alerts: await ends(LAB_ALERTS_TOPIC) } };
  }

  /** The session open now, on which gateway: what the window guard closes if the window ends first. */
  openSession(): { handle: string; gateway: string; local: boolean } | undefined {
    const handle = this.current?.session.sessionHandle;
    return handle && this.current ? { handle, gateway: this.current.gateway, local: this.current.local } : undefined;
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = undefined;
    await current?.session.close().catch(() => undefined);
  }
}
