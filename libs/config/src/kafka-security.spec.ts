import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { kafkaSecurity, kafkaSecurityEnv, parseEnv, saslComplete } from '@app/config';

const schema = z
  .object(kafkaSecurityEnv)
  .refine(saslComplete, { message: 'SASL needs all three', path: ['KAFKA_SASL_MECHANISM'] });

describe('Kafka TLS and SASL settings', () => {
  it('is plaintext without SASL by default', () => {
    expect(kafkaSecurity(parseEnv('t', schema, {}))).toEqual({ ssl: false });
  });

  it('reads the CA bundle and SCRAM credentials', () => {
    const ca = join(mkdtempSync(join(tmpdir(), 'kafka-ca-')), 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n');
    const cfg = parseEnv('t', schema, {
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: ca,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'secret',
    });
    expect(kafkaSecurity(cfg)).toEqual({
      ssl: { ca: ['-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n'] },
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'secret' },
    });
  });

  it('refuses SASL without credentials, naming the variable', () => {
    expect(() => parseEnv('t', schema, { KAFKA_SASL_MECHANISM: 'plain' })).toThrow(
      /KAFKA_SASL_MECHANISM: SASL needs all three/,
    );
    expect(() => parseEnv('t', schema, { KAFKA_SSL: 'yes' })).toThrow(/KAFKA_SSL/);
  });
});
