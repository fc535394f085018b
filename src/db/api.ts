// The DB functions the services use, one per cinder/db/sqlalchemy/api.py function they mirror,
// split along Cinder's own seams. The volume API and the manager reach the tables only through
// these (and src/db/stale.ts for the operator's report); only src/db imports drizzle's schema.
export { Not, STATUS_FROM_LIVE_ATTACHMENTS, volumeConditionalUpdate, type Expected, type Scalar } from './conditional.js';
export * from './volumes.js';
export * from './attachments.js';
export * from './services.js';
export { processSortParams, type PageOptions } from './pagination.js';
export * from './volume-types.js';
export * from './type-extra-specs.js';
export * from './type-access.js';
export * from './default-types.js';
export * from './volume-filters.js';
export * from './volume-metadata.js';
export * from './quotas.js';
export * from './transfers.js';
