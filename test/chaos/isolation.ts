// Project isolation and admin-only actions under auth_strategy = keystone, against the project's own
// real Keystone (scripts/keystone/start.sh: Debian's keystone on 127.0.0.1 with SQLite).
//
//   npx tsx test/chaos/isolation.ts [--quick 1]
//
// Project P's member (member-a) makes volumes in several states: available, attaching (os-reserve),
// in-use by the legacy attach, detaching (legacy attach + os-begin_detaching), in-use through the
// attachments API (create with a connector + os-complete), and reserved (attachments API without a
// connector). Then:
//  (1) project Q's member (member-b) tries every route and every action on P's volumes and
//      attachments, with Q's project id in the URL, with P's, and without any (the project-less
//      routes); lists with all_tenants=1 and project_id=P. Each answer is checked for P's ids it
//      did not send (visible) and the DB tables volumes, volume_attachment, volume_admin_metadata
//      and the stand-in's LIO state are compared before/after each request (changed). Each answer
//      is also compared with what Cinder 21.3.1 answers (cinder/api/openstack/wsgi.py: another
//      project in the URL is 400 "Malformed request url"; another project's volume is a 404).
//  (2) P's member tries every admin action on P's own volumes: Cinder's 403 "Policy doesn't allow
//      <rule> to be performed." with nothing changed; admin-only query keys are dropped silently.
// Cinder 21.3.1 itself shows another project's attachment on GET /attachments/{id} (no policy,
// VolumeAttachment.get_by_id is not project-scoped) and names the attachment's volume in os-complete's
// 404: those are counted apart ("as Cinder 21.3.1"), the port must not show anything beyond them.
// Afterwards P's member undoes every attachment, so the closing audit must be clean.
//
// The pieces live in test/chaos/isolation/: setup.ts (P's volumes, and the clean-up), catalogue.ts
// (the routes and actions with Cinder's answers, from expect.ts), checks.ts (what every answer is
// checked for), run.ts (the run) and report.ts (the figures and the printed report); Keystone's
// start/stop is test/support/keystone.ts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg } from './lib/audit.js';
import { run } from './isolation/run.js';

export { run };
export { startKeystone, type IsolationOptions } from './isolation/run.js';
export type { IsolationResult } from './isolation/report.js';
export { keystoneSkipReason, stopKeystone, type KeystoneInfo } from '../support/keystone.js';

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  run({ quick: arg('quick', '0') === '1' })
    .then((r) => {
      if (r.skipped) return;
      const bad = r.crossVisible + r.crossChanged + r.adminNotRefused + r.adminChanged;
      process.exitCode = bad ? 1 : 0;
    })
    .catch((err) => {
      console.error(err);
      process.exitCode = 2;
    });
}
