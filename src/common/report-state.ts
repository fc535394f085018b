// cinder/service.py Service.report_state's handling of a failed report: the timer never stops, the
// first failure after a success is logged once ("model server went away") and the first success
// after failures once ("Recovered model server connection!"), so a database outage leaves two
// lines in the log instead of one per report_interval.
import type { Logger } from './log.js';

export function stateReporter(report: () => Promise<void>, logger: Logger): () => Promise<void> {
  let disconnected = false; // Cinder's model_disconnected
  return async () => {
    try {
      await report();
      if (disconnected) {
        disconnected = false;
        logger.error('Recovered model server connection!');
      }
    } catch (e) {
      if (!disconnected) {
        disconnected = true;
        logger.error({ err: (e as Error).message }, 'model server went away');
      }
    }
  };
}
