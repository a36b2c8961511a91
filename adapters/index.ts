import type { Adapter } from './define.ts';
import { native } from './native.ts';
import { shelly } from './shelly.ts';
import { sparkplug } from './sparkplug.ts';
import { tasmota } from './tasmota.ts';
import { ttn } from './ttn.ts';
import { zigbee2mqtt } from './zigbee2mqtt.ts';

/** Every adapter xiaoer routes MQTT messages to, in match order. */
export const adapters: readonly Adapter[] = [zigbee2mqtt, tasmota, shelly, ttn, native, sparkplug];

export type { Adapter, AdapterContext, Normalised, Route } from './define.ts';
