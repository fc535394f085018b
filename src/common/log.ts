// pino JSON logs. Every line carries request_id / volume_id / attachment_id where known (child
// loggers); CHAP secrets never appear: known secret fields are redacted here, and the command
// executor masks secret argv values before it logs a command.
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'auth_password',
  'provider_auth',
  '*.auth_password',
  '*.provider_auth',
  '*.*.auth_password',
  '*.*.provider_auth',
  'connection_info.data.auth_password',
  '*.connection_info.data.auth_password',
  'chap_password',
  '*.chap_password',
];

export function createLogger(name: string, level = process.env.CINDER_TS_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    name,
    level,
    base: { service: name, pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
