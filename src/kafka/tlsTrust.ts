// TLS to a cluster: the CA file to trust instead of the system's, and what to say when a cluster's certificate is not trusted.
import { readFileSync } from 'node:fs';
import { UserError } from '../shared/errors';
import { SETTINGS_PREFIX } from '../config/settingKeys';

/** How messages name the CA setting, for the extension and the CLI at once (a message may reach either). */
export const CA_FILE_SETTING = `${SETTINGS_PREFIX}.tlsCaFile (CLI: --tls-ca-file or PIPELINE_TLS_CA_FILE)`;

/** kafkajs's `ssl`: true trusts the system's CAs; `ca` is the PEM text of the CA(s) to trust instead, read from `caFile`. */
export type TlsOptions = boolean | { ca: string; caFile: string };

/** The TLS of a cluster: the CA file's certificates when one is named (read now, so a bad file is named), else the system's CAs. */
export function tlsOptions(tls: boolean, caFile: string | undefined): TlsOptions {
  if (!tls) return false;
  if (!caFile) return true;
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new UserError(
      `The CA file ${caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): fix ${CA_FILE_SETTING}.`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----'))
    throw new UserError(`The CA file ${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----): fix ${CA_FILE_SETTING}.`);
  return { ca: pem, caFile: caFile };
}

/** Node's (and so kafkajs's) words for a certificate chain it does not trust. */
const UNTRUSTED_CERTIFICATE =
  /self[- ]signed certificate|unable to (verify the first certificate|get local issuer certificate|get issuer certificate)|certificate (has expired|is not yet valid|signature failure)|does not match certificate's altnames|CERT_/i;

/**
 * What to do when a connection failed because the cluster's certificate is not trusted (a private CA not named,
 * or another one named), or undefined when `error` is something else.
 */
export function untrustedCertificateProblem(bootstrapServers: string, caFile: string | undefined, error: unknown): string | undefined {
  const messages = [error, (error as { cause?: unknown } | undefined)?.cause].map((e) =>
    e instanceof Error ? e.message : String(e ?? ''),
  );
  const reason = messages.find((m) => UNTRUSTED_CERTIFICATE.test(m))?.replace(/^.*?Connection error: /, '');
  if (!reason) return undefined;
  if (/altnames/i.test(reason))
    return `Kafka at ${bootstrapServers} sent a TLS certificate for other names (${reason}): use a bootstrap address that its certificate names.`;
  return caFile
    ? `Kafka at ${bootstrapServers} sent a TLS certificate that the CA in ${caFile} did not sign (${reason}): name the CA that signed it in ${CA_FILE_SETTING}.`
    : `Kafka at ${bootstrapServers} sent a TLS certificate that the system's CAs do not trust (${reason}): if the cluster has its own CA, name its PEM file in ${CA_FILE_SETTING}.`;
}
