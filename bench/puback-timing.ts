import { MqttClient, type Packet } from 'mqtt';
import { hrMicros } from './proc.ts';

/**
 * How long xiaoer holds each QoS 1 message from an external broker: from the moment MQTT.js hands
 * the PUBLISH to the ingest (`handleMessage`) to the moment its PUBACK is written (after the
 * message was recorded and every earlier one acknowledged, src/ingest/mqtt-source.ts). The broker
 * sends at most its in-flight window of messages unacknowledged, so this time bounds the rate.
 *
 * Measured from the outside, without touching src/: MQTT.js's prototype gets a `handleMessage`
 * accessor (MqttSource assigns its handler per client, the setter wraps it) and a `_sendPacket`
 * wrapper (MqttSource binds the prototype's at connect and sends the held PUBACKs through it).
 * The cost is a Map write and delete and two clock reads per message.
 */

type Handler = (packet: { messageId?: number; qos: number }, done: (err?: Error) => void) => void;
type SendPacket = (packet: Packet, ...rest: unknown[]) => void;

const received = new WeakMap<MqttClient, Map<number, number>>();
let samples: number[] = [];
let installed = false;

export function installPubackTiming(): void {
  if (installed) return;
  installed = true;
  const proto = MqttClient.prototype as unknown as {
    handleMessage: Handler;
    _sendPacket: SendPacket;
  };
  const original = proto.handleMessage;
  const originalSend = proto._sendPacket;
  Object.defineProperty(MqttClient.prototype, 'handleMessage', {
    configurable: true,
    get() {
      return original;
    },
    set(this: MqttClient, handler: Handler) {
      const times = new Map<number, number>();
      received.set(this, times);
      Object.defineProperty(this, 'handleMessage', {
        configurable: true,
        writable: true,
        value: (packet: Parameters<Handler>[0], done: Parameters<Handler>[1]) => {
          if (packet.qos > 0 && packet.messageId !== undefined) times.set(packet.messageId, hrMicros());
          handler.call(this, packet, done);
        },
      });
    },
  });
  proto._sendPacket = function (this: MqttClient, packet: Packet, ...rest: unknown[]) {
    if (packet.cmd === 'puback' && packet.messageId !== undefined) {
      const times = received.get(this);
      const at = times?.get(packet.messageId);
      if (at !== undefined) {
        times?.delete(packet.messageId);
        samples.push((hrMicros() - at) / 1000);
      }
    }
    return originalSend.call(this, packet, ...rest);
  };
}

/** Milliseconds from receipt to PUBACK of every message acknowledged since the last call. */
export function takePubackSamples(): number[] {
  const out = samples;
  samples = [];
  return out;
}
