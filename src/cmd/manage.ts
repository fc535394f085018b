// cinder-ts-manage, in the spirit of cinder-manage: operator commands that read the service's
// database directly, without the API.
//   node --import tsx src/cmd/manage.ts --config-file /etc/cinder/cinder.conf stale [--older-than S] [--json]
// stale: volumes and attachments left in a transient status (detaching, attaching, reserved,
// error_detaching, creating, deleting) for longer than S seconds ([metrics] stale_after by
// default), each with the recovery that brings it back. Exit 0 with nothing stale, 3 otherwise.
import { loadConfigFromArgv } from '../common/config.js';
import { openDb } from '../db/client.js';
import { formatStaleReport, staleReport } from '../volume-api/stale.js';

const USAGE = 'usage: manage.ts --config-file <cinder.conf> stale [--older-than <seconds>] [--json]';

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

const argv = process.argv.slice(2);
const cfg = loadConfigFromArgv(process.argv);
const command = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'))[0];
if (command !== 'stale') {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}
const raw = option(argv, '--older-than');
if (raw !== undefined && !/^\d+$/.test(raw)) {
  process.stderr.write(`--older-than: expected a whole number of seconds, got '${raw}'\n`);
  process.exit(2);
}
// Read-only: never migrate a database an operator points this at.
const db = openDb(cfg.database.connection, { migrate: false });
const report = staleReport(db, raw === undefined ? cfg.metrics.stale_after : Number(raw));
db.$client.close();
process.stdout.write(`${argv.includes('--json') ? JSON.stringify(report, null, 2) : formatStaleReport(report)}\n`);
process.exit(report.volumes.length + report.attachments.length > 0 ? 3 : 0);
