import { describe, expect, it } from 'vitest';
import { createLogger, type LogLevel } from './logger.ts';

function capture(level: LogLevel, base: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const logger = createLogger(level, base, (line) => lines.push(line));
  return { logger, lines, entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  it('writes one JSON line with time, level, message and fields', () => {
    const { logger, lines, entries } = capture('debug', { service: 'api' });
    logger.info('recording created', { recording_id: 'rec_1', count: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [entry] = entries();
    expect(entry).toEqual({ time: expect.any(String), level: 'info', message: 'recording created', service: 'api', recording_id: 'rec_1', count: 2 });
    expect(Number.isNaN(Date.parse(String(entry?.['time'])))).toBe(false);
  });

  it('serializes Errors to name and message only, never the stack or cause', () => {
    const { logger, lines, entries } = capture('info');
    const error = new TypeError('bad thing', { cause: new Error('secret cause') });
    logger.error('failed', { error });
    expect(entries()[0]?.['error']).toEqual({ name: 'TypeError', message: 'bad thing' });
    expect(lines[0]).not.toContain('stack');
    expect(lines[0]).not.toContain('secret cause');
    expect(lines[0]).not.toContain('logger.unit.test');
  });

  it('keeps an error code when there is one', () => {
    const { logger, entries } = capture('info');
    const error = Object.assign(new Error('conditional check failed'), { code: 'ConditionalCheckFailed' });
    logger.warn('conflict', { error });
    expect(entries()[0]?.['error']).toEqual({ name: 'Error', message: 'conditional check failed', code: 'ConditionalCheckFailed' });
  });

  it('drops entries below its level', () => {
    const { logger, entries } = capture('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(entries().map((e) => [e['level'], e['message']])).toEqual([
      ['warn', 'w'],
      ['error', 'e'],
    ]);
  });

  it('debug level writes everything, silent writes nothing', () => {
    const all = capture('debug');
    all.logger.debug('d');
    all.logger.info('i');
    all.logger.warn('w');
    all.logger.error('e');
    expect(all.entries().map((e) => e['level'])).toEqual(['debug', 'info', 'warn', 'error']);

    const none = capture('silent');
    none.logger.error('e');
    none.logger.child({ a: 1 }).error('e');
    expect(none.lines).toEqual([]);
  });

  it('child loggers add fields, keep the level and the writer; call fields win', () => {
    const { logger, entries } = capture('info', { service: 'api' });
    const child = logger.child({ request_id: 'req-1', step: 'outer' });
    child.debug('hidden');
    child.info('hello', { step: 'inner' });
    expect(entries()).toEqual([{ time: expect.any(String), level: 'info', message: 'hello', service: 'api', request_id: 'req-1', step: 'inner' }]);
  });
});
