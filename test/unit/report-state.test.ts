// cinder/service.py Service.report_state: one line when the database goes, one when it is back,
// and the timer's report never throws.
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/common/log.js';
import { stateReporter } from '../../src/common/report-state.js';

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = { error: (a: unknown, b?: string) => lines.push(typeof a === 'string' ? a : `${b} (${(a as { err: string }).err})`) };
  return { logger: logger as unknown as Logger, lines };
}

describe('stateReporter (Service.report_state)', () => {
  it('an outage of three reports logs "model server went away" once and the recovery once', async () => {
    const { logger, lines } = recordingLogger();
    const outcomes = [true, false, false, false, true, true];
    const report = stateReporter(async () => {
      if (!outcomes.shift()) throw new Error('connect ENOENT /run/mysqld/mysqld.sock');
    }, logger);
    for (let i = 0; i < 6; i++) await expect(report()).resolves.toBeUndefined();
    expect(lines).toEqual(['model server went away (connect ENOENT /run/mysqld/mysqld.sock)', 'Recovered model server connection!']);
  });
  it('reports that always succeed log nothing', async () => {
    const { logger, lines } = recordingLogger();
    const report = stateReporter(async () => {}, logger);
    await report();
    await report();
    expect(lines).toEqual([]);
  });
});
