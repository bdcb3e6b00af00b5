/** Structured logs: one JSON object a line, on stdout. Fields of a child logger are on each of its lines. */
import type { LogFields, Logger } from '../sdk/index.ts';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface HostLogger extends Logger {
  child(fields: LogFields): HostLogger;
}

export type LineWriter = (line: string) => void;

export function createLogger(
  minimum: Level = 'info',
  write: LineWriter = (line) => process.stdout.write(`${line}\n`),
  base: LogFields = {},
): HostLogger {
  const emit = (level: Level, message: string, fields?: LogFields) => {
    if (RANK[level] < RANK[minimum]) return;
    write(
      JSON.stringify(
        { time: new Date().toISOString(), level, msg: message, ...base, ...fields },
        errorReplacer,
      ),
    );
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger(minimum, write, { ...base, ...fields }),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'bigint') return value.toString();
  return value;
}
