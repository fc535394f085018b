// cinder-ts-manage, in the spirit of cinder-manage: operator commands that work on the service's
// database directly, without the API.
//   bin/cinder-ts manage --config-file /etc/cinder/cinder.conf db sync
//   bin/cinder-ts manage --config-file /etc/cinder/cinder.conf stale [--older-than S] [--json]
// db sync: creates or upgrades the schema of [database] connection (cinder-manage db sync), the
// step an operator runs once before starting the services on a new MariaDB database. The
// services also apply it at start; running it twice is harmless.
// stale: volumes and attachments left in a transient status (detaching, attaching, reserved,
// error_detaching, creating, deleting) for longer than S seconds ([metrics] stale_after by
// default), each with the recovery that brings it back. Exit 0 with nothing stale, 3 otherwise.
import { loadConfigFromArgv } from '../common/config.js';
import { openDb } from '../db/client.js';
import { formatStaleReport, staleReport } from '../volume-api/stale.js';

const USAGE = 'usage: manage.ts --config-file <cinder.conf> (db sync | stale [--older-than <seconds>] [--json])';

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function usage(): never {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const cfg = loadConfigFromArgv(process.argv);
  const words = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
  if (words[0] === 'db') {
    if (words[1] !== 'sync') usage();
    const db = await openDb(cfg.database.connection, { ...cfg.database, migrate: true });
    await db.close();
    process.stdout.write(`db sync: ${db.dialect} schema is up to date\n`);
    return 0;
  }
  if (words[0] !== 'stale') usage();
  const raw = option(argv, '--older-than');
  if (raw !== undefined && !/^\d+$/.test(raw)) {
    process.stderr.write(`--older-than: expected a whole number of seconds, got '${raw}'\n`);
    return 2;
  }
  // Read-only: never migrate a database an operator points this at.
  const db = await openDb(cfg.database.connection, { ...cfg.database, migrate: false });
  const report = await staleReport(db, raw === undefined ? cfg.metrics.stale_after : Number(raw), new Date(), cfg.DEFAULT.service_down_time);
  await db.close();
  process.stdout.write(`${argv.includes('--json') ? JSON.stringify(report, null, 2) : formatStaleReport(report)}\n`);
  return report.volumes.length + report.attachments.length > 0 ? 3 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`manage: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
