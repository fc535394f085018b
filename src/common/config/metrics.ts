// [metrics], cinder-ts's own section (Cinder has no metrics endpoint): where src/common/metrics.ts
// serves the Prometheus metrics and when a volume in a transient status counts as stale.
import { z } from 'zod';
import { bool, int, sectionOf } from './oslo-config.js';

/** Not Cinder's: where the Prometheus metrics are served (src/common/metrics.ts). */
const metricsSectionSchema = z.object({
  /** GET /metrics on cinder-api's own port (unauthenticated, like the version document at /). */
  api_enabled: bool.default(true),
  /** The volume-manager has no HTTP server: /metrics and /outlived on this address when a port is set. */
  volume_listen: z.string().min(1).default('127.0.0.1'),
  volume_port: int(1, 65535).optional(),
  /** Seconds a volume may sit in a transient status before the stale report and metric count it. */
  stale_after: int(1).default(600),
});
export type MetricsSettings = z.infer<typeof metricsSectionSchema>;

export function metricsSection(raw: unknown): MetricsSettings {
  return sectionOf(metricsSectionSchema, raw, 'metrics');
}
