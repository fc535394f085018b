// A seeded HTTP fuzzer over every route and action of cinder-api (issue 8). It starts the real API
// and volume-manager (test/support/cluster.ts), makes a handful of volumes in assorted states, then
// sends `cases` requests one at a time: methods, paths (malformed volume/attachment/project ids),
// headers (microversions, request ids, Content-Type, Accept, huge and duplicate headers) and bodies
// (valid, mutated, wrong types, nulls, huge numbers, unicode, deep nesting, invalid JSON, empty).
//
// For every request it records the status; for every 5xx the fault body and the API/manager error
// log line of that request id, grouped by cause, with a curl reproducer; for every rejected request
// (4xx/5xx) whether the database (volumes, volume_attachment, volume_admin_metadata, workers) or the
// stand-in's LIO/LVM state changed. Requests are sequential, and the asynchronous work an accepted
// request started (create/delete casts) is waited for before the next request, so a diff belongs to
// the request that made it. Process exits are counted (there must be none).
//
//   npx tsx test/chaos/fuzz.ts --seed 1 --cases 10000
//
// The pieces live in test/chaos/fuzz/: fixtures.ts (the cluster's volumes), generator.ts with
// routes/ (requests per route family), values.ts, ids.ts and headers.ts (what goes into them),
// http.ts (sending, reproducers), state.ts (snapshots and diffs), causes.ts (5xx classification),
// run.ts (the loop) and report.ts (the printed report).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg } from './lib/audit.js';
import { run } from './fuzz/run.js';

export { run };
export type { FiveXXCause, FuzzOptions, FuzzResult, StateChange } from './fuzz/types.js';

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const seed = Number(arg('seed', '1'));
  const cases = Number(arg('cases', '10000'));
  run({ seed, cases, log: (l) => console.log(l) })
    .then((r) => {
      console.log(r.report);
      console.log(`routes: ${Object.entries(r.routes).sort(([x], [y]) => x.localeCompare(y)).map(([k, n]) => `${k}=${n}`).join('; ')}`);
      process.exit(r.processExitCount ? 1 : 0);
    })
    .catch((e) => {
      console.error(e);
      process.exit(2);
    });
}
