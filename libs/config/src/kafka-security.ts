import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Kafka TLS and SASL settings shared by the apps that talk to Kafka (the Helm chart sets them from Secrets). */
export const kafkaSecurityEnv = {
  KAFKA_SSL: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** PEM bundle of the CAs that signed the brokers' certificates (default: the system CAs). */
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional(),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
};

export interface KafkaSecurity {
  readonly ssl: boolean | { ca: string[] };
  readonly sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

type SecurityValues = {
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA_FILE?: string | undefined;
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
};

/** The kafkajs `ssl` / `sasl` options; SASL needs all three values (checked at boot by the schema refinement). */
export function kafkaSecurity(c: SecurityValues): KafkaSecurity {
  const ssl = c.KAFKA_SSL ? (c.KAFKA_SSL_CA_FILE ? { ca: [readFileSync(c.KAFKA_SSL_CA_FILE, 'utf8')] } : true) : false;
  if (!c.KAFKA_SASL_MECHANISM) return { ssl };
  return {
    ssl,
    sasl: {
      mechanism: c.KAFKA_SASL_MECHANISM,
      username: c.KAFKA_SASL_USERNAME ?? '',
      password: c.KAFKA_SASL_PASSWORD ?? '',
    },
  };
}

/** SASL is all or nothing: a mechanism without credentials (or the reverse) is a configuration error. */
export function saslComplete(c: SecurityValues): boolean {
  const set = [c.KAFKA_SASL_MECHANISM, c.KAFKA_SASL_USERNAME, c.KAFKA_SASL_PASSWORD].filter(
    (v) => v !== undefined,
  ).length;
  return set === 0 || set === 3;
}
