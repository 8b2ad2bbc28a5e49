import { pino, type Logger } from 'pino';
import { redactSecrets } from './providers/redact.js';

export type { Logger };

/**
 * Structured JSON logs. Every line passes the one redaction of secret values (src/providers/redact.ts)
 * before it is written; fields that could carry a secret are also redacted by path.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'spec-chain', pid: process.pid },
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', 'token', '*.token', 'password', '*.password'],
        censor: '[redacted]',
      },
      hooks: { streamWrite: (line) => redactSecrets(line) },
    },
    destination as pino.DestinationStream | undefined,
  );
}
