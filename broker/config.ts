import { z } from 'zod';

/**
 * Limits of the embedded broker, merged into the `mqtt` section of the config (see
 * src/config/schema.ts). Each field is a zod schema with its default.
 */
export const brokerLimitsShape = {
  /** A client must complete its CONNECT within this time, or it is disconnected. */
  connectTimeoutMs: z.number().int().min(500).max(60_000).default(5000),
} satisfies z.ZodRawShape;

export type BrokerLimits = z.infer<z.ZodObject<typeof brokerLimitsShape>>;
