import { Flags } from '@oclif/core';
import { parseId, type AccountId } from '@pay/core';

/** `--account acc_…`, checked to be an account id before anything is opened. */
export const accountFlag = Flags.custom<AccountId>({
  description: 'Account id (acc_…)',
  required: true,
  parse: (value) => Promise.resolve(parseId('account', value, 'account')),
});
