// The quota and transfer exceptions of cinder/exception.py (QuotaError and its subclasses: 413,
// safe, so FaultWrapper shows "<Class>: <msg>").
import { CinderException, Invalid, NotFound } from '../common/exceptions.js';

export class QuotaError extends CinderException {
  static override code = 413;
  static override template = 'Quota exceeded: code=%(code)s';
  static override safe = true;
  /** FaultWrapper sets these on the answer. */
  static headers = { 'Retry-After': '0' };
}
export class VolumeSizeExceedsAvailableQuota extends QuotaError {
  static override template =
    'Requested volume or snapshot exceeds allowed %(name)s quota. Requested %(requested)sG, quota is %(quota)sG and %(consumed)sG has been consumed.';
}
export class VolumeSizeExceedsLimit extends QuotaError {
  static override template = 'Requested volume size %(size)sG is larger than maximum allowed limit %(limit)sG.';
}
export class VolumeLimitExceeded extends QuotaError {
  static override template = "Maximum number of volumes allowed (%(allowed)s) exceeded for quota '%(name)s'.";
}
export class UnexpectedOverQuota extends QuotaError {
  static override template = 'Unexpected over quota on %(name)s.';
}
export class InvalidQuotaValue extends Invalid {
  static override template = 'Change would make usage less than 0 for the following resources: %(unders)s';
}
export class QuotaNotFound extends NotFound {
  static override template = 'Quota could not be found';
}
export class QuotaResourceUnknown extends QuotaNotFound {
  static override template = 'Unknown quota resources %(unknown)s.';
}
export class InvalidAuthKey extends Invalid {
  static override template = 'Invalid auth key: %(reason)s';
}
export class TransferNotFound extends NotFound {
  static override template = 'Transfer %(transfer_id)s could not be found.';
}
