import { z } from 'zod';
import { strictObject } from '../core/strict.ts';

/** The `callbacks` section (issue 13): the desk calls the reporter back after a ticket closed. */
export const callbacksSchema = strictObject({
  /** Hours after closing within which the call-back is due; later it shows as overdue. */
  dueHours: z
    .number()
    .positive()
    .max(30 * 24)
    .default(48),
}).prefault({});

export type CallbacksConfig = z.infer<typeof callbacksSchema>;
