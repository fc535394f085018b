// What Cinder 21.3.1 answers (cinder/api/openstack/wsgi.py faults and policy refusals), and the
// shapes of one probe (a request of the run with its expectation) and of its outcome.
export const fault = (status: number, message: string) => {
  const name = { 400: 'badRequest', 403: 'forbidden', 404: 'itemNotFound' }[status as 400 | 403 | 404];
  return { status, body: { [name]: { code: status, message } } };
};
export const MALFORMED = fault(400, 'Malformed request url');
export const volNotFound = (id: string) => fault(404, `Volume ${id} could not be found.`);
export const attNotFound = (id: string) => fault(404, `Volume attachment could not be found with filter: attachment_id = ${id}.`);
export const policy = (rule: string) => fault(403, `Policy doesn't allow ${rule} to be performed.`);
export const noSuchAction = (a: string) =>
  fault(400, `There is no such action: ${a}. Verify the request body and Content-Type header and try again.`);
export const INVALID_PROJECT_FILTER = fault(400, 'Invalid filters project_id are found in query options.');

export interface Expect {
  status: number;
  /** The whole JSON body Cinder answers (checked when given). */
  body?: unknown;
  /** For 200 lists: the answer must carry none of the other project's ids. */
  note?: string;
}

/** One request of the run, its route label, what Cinder answers, and what the port did. */
export interface Probe {
  route: string;
  column: string;
  method: string;
  path: string;
  body?: unknown;
  version?: string;
  headers?: Record<string, string>;
  expect: Expect;
  /** The port has no route or action here (Cinder has): the answer is the port's 404/400. */
  portUnrouted?: boolean;
  /** Ids of the other project Cinder 21.3.1 itself puts in this answer. */
  cinderShows?: string[];
  /** Where the port is stricter than Cinder on purpose (README, behaviour notes): its answer. */
  portAnswer?: Expect;
}

export interface Outcome {
  probe: Probe;
  status: number;
  visible: string[];
  visibleBeyondCinder: string[];
  changed: boolean;
  diff?: string;
  matchesCinder: boolean;
  text: string;
}
