// The shared pieces of cinder/api/validation/parameter_types.py that more than one schema module
// uses (schemas.ts, schemas-types.ts, routes/transfers.ts): one definition each.

/** parameter_types.boolean: a JSON boolean or one of strutils' boolean strings. */
export const booleanValue = {
  type: ['boolean', 'string'],
  enum: [
    true, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't',
    false, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f',
  ],
} as const;

/** parameter_types.uuid */
export const uuid = { type: 'string', format: 'uuid' } as const;
