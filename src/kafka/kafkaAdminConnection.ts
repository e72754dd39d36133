// The admin's connection to one Kafka cluster: the lazily connected kafkajs Admin, and calls bounded by a timeout.
import { type Admin, type Kafka } from 'kafkajs';
import { UserError, withTimeout } from '../shared/errors';
import { createKafka, type ConnectionOptions } from './kafkaClient';
import { untrustedCertificateProblem } from './tlsTrust';
import { createInternalCluster, type InternalCluster } from './kafkajsShims';

/** Errors a group coordinator answers right after a broker starts; they pass within seconds. */
const COORDINATOR_WARMING_UP =
  /COORDINATOR_LOAD_IN_PROGRESS|COORDINATOR_NOT_AVAILABLE|NOT_COORDINATOR|coordinator is (loading|not available)|not the correct coordinator/i;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects to one Kafka cluster through kafkajs and bounds every call by a timeout; the admin's parts call through it. */
export class KafkaAdminConnection {
  readonly kafka: Kafka;
  private admin: Admin | undefined;
  private connecting: Promise<Admin> | undefined;

  constructor(
    readonly connection: ConnectionOptions,
    readonly timeoutMs = 5000,
  ) {
    this.kafka = createKafka(connection);
  }

  get label(): string {
    return this.connection.bootstrapServers.join(',');
  }

  async call<T>(what: string, fn: (admin: Admin) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const admin = await this.connected();
    try {
      return await withTimeout(fn(admin), timeoutMs, `Kafka at ${this.label} (${what})`);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`Kafka at ${this.label} failed to ${what}: ${(error as Error).message}.`);
    }
  }

  /** `call`, retried while the group coordinator is still loading (common in the first seconds after a start). */
  async callGroup<T>(what: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs * 2;
    for (;;) {
      try {
        return await this.call(what, fn);
      } catch (error) {
        if (!COORDINATOR_WARMING_UP.test(String((error as Error).message)) || Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
  }

  async connected(): Promise<Admin> {
    if (this.admin) return this.admin;
    this.connecting ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await withTimeout(admin.connect(), this.timeoutMs, `Kafka at ${this.label}`);
      } catch (error) {
        this.connecting = undefined;
        await admin.disconnect().catch(() => undefined);
        throw this.unreachable(error);
      }
      this.admin = admin;
      return admin;
    })();
    return this.connecting;
  }

  /** A certificate it does not trust says which setting names the CA, a refused login says so; anything else, that Kafka is not there. */
  private unreachable(error: unknown): UserError {
    const { ssl } = this.connection;
    const untrusted = untrustedCertificateProblem(this.label, typeof ssl === 'object' ? ssl.caFile : undefined, error);
    if (untrusted) return new UserError(untrusted, String(error));
    // Reached, and turned away: "start it" would send the user looking in the wrong place.
    if (/SASL \S+ authentication failed|Authentication failed/i.test(String(error)))
      return new UserError(`Kafka at ${this.label} turned the SASL login away: check the user and its password.`, String(error));
    return new UserError(
      `Cannot reach Kafka at ${this.label}: start it (\`pipeline stack up\`) or check the bootstrap servers setting.`,
      String(error),
    );
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    this.connecting = undefined;
    await admin?.disconnect().catch(() => undefined);
  }

  /**
   * Runs `fn` on a fresh kafkajs Cluster (kafkajsShims.ts says why), bounded by the timeout; `undefined` when
   * this kafkajs has none (the public per-topic path then).
   */
  async withInternalCluster<T>(what: string, fn: (cluster: InternalCluster) => Promise<T>): Promise<T | undefined> {
    const cluster = createInternalCluster(this.kafka);
    if (!cluster) return undefined;
    try {
      try {
        await withTimeout(cluster.connect(), this.timeoutMs, `Kafka at ${this.label}`);
      } catch (error) {
        throw this.unreachable(error);
      }
      return await withTimeout(fn(cluster), this.timeoutMs, `Kafka at ${this.label} (${what})`);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`Kafka at ${this.label} failed to ${what}: ${(error as Error).message}.`);
    } finally {
      await cluster.disconnect().catch(() => undefined);
    }
  }
}
