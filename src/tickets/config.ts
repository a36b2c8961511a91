import { z } from 'zod';
import { strictObject } from '../core/strict.ts';

const level = strictObject({
  /** e.g. `team_lead`, `facilities_manager`: shown in the escalation event and the robot message. */
  name: z.string().min(1),
  /** People to call at this level (names or phone numbers), carried in the event. */
  contacts: z.array(z.string().min(1)).default([]),
});

export const ticketsSchema = strictObject({
  /** A reported repair is verified once the sensor's alarm has stayed clear this long. */
  verifyMinutes: z
    .number()
    .min(0)
    .max(24 * 60)
    .default(10),
  /** A fault returning within this time after verification reopens the same ticket. */
  reopenHours: z
    .number()
    .min(0)
    .max(24 * 30)
    .default(24),
  escalation: strictObject({
    /** Share of the time to a deadline after which the next level is told (0.8: at 4 of 5 min). */
    nearFraction: z.number().gt(0).lt(1).default(0.8),
    /** Level 1 is told when a deadline is near, level 2 when it is breached. */
    levels: z
      .array(level)
      .min(2)
      .max(2)
      .default([
        { name: 'team_lead', contacts: [] },
        { name: 'facilities_manager', contacts: [] },
      ]),
  }).prefault({}),
  correlation: strictObject({
    /** More offline devices than this at one site within the window are one outage. */
    offlineThreshold: z.number().int().min(1).default(5),
    windowSeconds: z.number().positive().max(3600).default(120),
    /** A site gateway away this long (not a quick reconnect) is an outage. */
    gatewayGraceSeconds: z.number().min(0).max(3600).default(60),
    /**
     * Once an outage's cause is gone (the gateway is back, or no more than `offlineThreshold`
     * of its devices are still offline), devices still offline after this long are faults of
     * their own: they leave the outage ticket with their own SLA clocks, and it is verified.
     */
    recoverySeconds: z.number().min(0).max(3600).default(120),
    /** Category of outage tickets (a network or gateway fault); default `other`, else the first. */
    category: z.string().optional(),
  }).prefault({}),
}).prefault({});

export type TicketsConfig = z.infer<typeof ticketsSchema>;

/** The faults of xiaoer's own outage (parent) tickets. */
export const OUTAGE_FAULTS = ['gateway_offline', 'mass_offline'] as const;
