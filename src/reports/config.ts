import { z } from 'zod';
import { strictObject } from '../core/strict.ts';

const weight = z.number().min(0).max(100);

/** The `reports` section (issue 13): the time zone periods are read in, and the scoring. */
export const reportsSchema = strictObject({
  /** Days, weeks and months of a report start at local midnight here (an IANA zone). */
  timeZone: z
    .string()
    .min(1)
    .max(64)
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'expected an IANA time zone such as Asia/Shanghai')
    .default('Asia/Shanghai'),
  scoring: strictObject({
    /** Relative weights of the score's parts; shown next to every score. */
    weights: strictObject({
      sla: weight.default(0.5),
      reopen: weight.default(0.2),
      satisfaction: weight.default(0.3),
    })
      .refine((w) => w.sla + w.reopen + w.satisfaction > 0, 'at least one weight must be above 0')
      .prefault({}),
    /** Teams or departments scored together: their members' tickets. */
    teams: z
      .record(
        z.string().min(1).max(64),
        strictObject({
          name: z.string().min(1).max(100),
          members: z.array(z.string().min(1).max(64)).max(500),
        }),
      )
      .default({}),
  }).prefault({}),
}).prefault({});

export type ReportsConfig = z.infer<typeof reportsSchema>;
