import type { Adapter } from './define.ts';
import { zigbee2mqtt } from './zigbee2mqtt.ts';

/** Every adapter xiaoer routes MQTT messages to, in match order. */
export const adapters: readonly Adapter[] = [zigbee2mqtt];

export type { Adapter, AdapterContext, Normalised, Route } from './define.ts';
