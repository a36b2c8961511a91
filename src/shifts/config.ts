import { z } from 'zod';
import { strictObject } from '../core/strict.ts';

/** The `shifts` section: maintainers check in at a site for their shift (issue 12). */
export const shiftsSchema = strictObject({
  /** A shift open longer than this counts as ended (somebody forgot to check out). */
  maxHours: z.number().positive().max(72).default(12),
  /**
   * A ticket raised at a site where nobody is checked in escalates its arrival clock at once
   * (level 1, reason `nobody_on_shift`) instead of when the deadline is near.
   */
  escalateWhenUnstaffed: z.boolean().default(true),
}).prefault({});

export type ShiftsConfig = z.infer<typeof shiftsSchema>;
