import { z } from 'zod';
import { strictObject } from '../core/strict.ts';

/** How admins change alert rules at runtime (issue 11). */
export const tuningSchema = strictObject({
  /**
   * A change that alters the rule of more than this many assets waits for a second admin's
   * approval. Absent: every change applies at once.
   */
  approvalAboveAssets: z.number().int().min(0).optional(),
  /** A rule whose tickets were closed as no fault found or sensor fault this often is noisy. */
  noiseThreshold: z.number().min(0).max(1).default(0.3),
  /** Fewer closed tickets than this say nothing about a rule's noise. */
  noiseMinTickets: z.number().int().positive().default(5),
  /** The closed tickets the noise score looks at. */
  noiseWindowDays: z.number().positive().max(3650).default(90),
}).prefault({});

export type TuningConfig = z.infer<typeof tuningSchema>;
