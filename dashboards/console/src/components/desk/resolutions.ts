import type { Resolution } from '../../types';

/** What a maintainer or the desk found, in the order they are usually picked. */
export const RESOLUTIONS: readonly Resolution[] = [
  'real_fault',
  'no_fault_found',
  'sensor_fault',
  'duplicate',
];
