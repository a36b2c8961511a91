import { serializerCompiler } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { $ZodType } from 'zod/v4/core';
import {
  compileStringify,
  createFastSerializerCompiler,
  isTestRun,
} from '../../../src/api/fast-serializer.ts';
import { Directory } from '../../../src/config/directory.ts';
import type { Ticket } from '../../../src/domain/types.ts';
import { isoInstant, TicketPresenter, ticketDtoSchema } from '../../../src/tickets/ticket-dto.ts';
import { newTicket, T0 } from '../../contract/store.contract.ts';
import { exampleConfig } from '../../helpers/domain.ts';

const base: Ticket = {
  ...newTicket({
    status: 'dispatched',
    raisedAt: T0 + 7,
    arrival: { dueAt: T0 + 300_000, breachedAt: T0 + 300_000, met: false },
    repair: { dueAt: T0 + 3_600_000, verifiedAt: T0 + 99 },
    assignee: 'wang "the fixer" \u2028',
    reopenCount: 1,
    escalation: { arrival: 2, repair: 0 },
    verifyDueAt: T0 + 60_000,
    trigger: { metric: 'leak', value: true, at: T0 - 5, limit: { above: 1, equals: 'wet', forSeconds: 0 } },
  }),
  id: 42,
  workOrder: 'XC-20261126-003',
};
const presenter = new TicketPresenter({
  directory: new Directory(exampleConfig()),
  clock: { now: () => T0 + 120_000 },
});
const dtos = [
  presenter.ticket(base),
  presenter.ticket({ ...base, id: 7, assetId: 'unknown-device', arrival: {}, trigger: undefined }),
  presenter.ticket({ ...base, id: 8, status: 'closed', closedAt: T0 + 5000, resolution: 'real_fault' }),
];

/** The route's serializer either way: fastify hands the compiler the status code's schema. */
const compile = (schema: $ZodType, verify = false) =>
  createFastSerializerCompiler({ verify })({ schema, method: 'GET', url: '/t', httpStatus: '200' });
const zodJson = (schema: $ZodType, data: unknown) =>
  serializerCompiler({ schema, method: 'GET', url: '/t', httpStatus: '200' })(data);

describe('fast response serializer', () => {
  const list = z.object({ tickets: z.array(ticketDtoSchema) });

  it('writes the same JSON as the zod encode for ticket DTOs', () => {
    expect(compileStringify(ticketDtoSchema)).toBeDefined();
    for (const dto of dtos) expect(compile(ticketDtoSchema)(dto)).toBe(zodJson(ticketDtoSchema, dto));
    expect(compile(list)({ tickets: dtos })).toBe(zodJson(list, { tickets: dtos }));
    expect(compile(list)({ tickets: [] })).toBe('{"tickets":[]}');
  });

  it('drops unknown keys and follows the schema order, as zod does', () => {
    const schema = z.object({
      a: z.number(),
      b: z.object({ c: z.string().nullable() }),
      d: z.string().optional(),
    });
    const data = { secret: 'x', b: { extra: 1, c: null }, a: 1, d: undefined };
    expect(compile(schema)(data)).toBe('{"a":1,"b":{"c":null}}');
    expect(compile(schema)(data)).toBe(zodJson(schema, data));
    // What JSON.stringify would write otherwise than zod: a class's toJSON, a key it does not list.
    class Shaped {
      a = 2;
      toJSON() {
        return { a: 'not this' };
      }
    }
    const hidden = Object.defineProperty({ a: 3 }, 'd', { value: 'hidden', enumerable: false });
    const small = z.object({ a: z.number(), d: z.string().optional() });
    for (const odd of [new Shaped(), hidden, { d: undefined, a: 1 }, { a: 1 }])
      expect(compile(small)(odd)).toBe(zodJson(small, odd));
    expect(compile(small)(hidden)).toBe('{"a":3,"d":"hidden"}');
    const records = z.object({ r: z.record(z.string(), z.object({ n: z.number() })) });
    const withRecords = { r: { y: { n: 1, drop: 2 }, x: { n: 2 } } };
    expect(compile(records)(withRecords)).toBe(zodJson(records, withRecords));
  });

  it('keeps the zod encode where the schema changes the output', () => {
    const changing: $ZodType[] = [
      z.object({ a: z.string().default('d') }),
      z.object({ a: z.string().trim() }),
      z.object({ a: z.number().transform((n) => n * 2) }),
      z.object({ a: z.iso.datetime().pipe(z.coerce.date()) }),
      z.looseObject({ a: z.string() }),
      z.object({ a: z.union([z.object({ b: z.string() }), z.string()]) }),
      z.object({ a: z.date() }),
    ];
    for (const schema of changing) expect(compileStringify(schema)).toBeUndefined();
    // The zod encode runs for them, codecs and all.
    const codec = z.object({ n: z.codec(z.string(), z.number(), { decode: Number, encode: String }) });
    expect(compileStringify(codec)).toBeUndefined();
    expect(compile(codec)({ n: 5 })).toBe('{"n":"5"}');
    const defaulted = z.object({ a: z.string().default('d'), b: z.number() });
    expect(() => compile(defaulted)({ b: 1 })).toThrow(/Response doesn't match the schema/);
  });

  it('checks the data against the schema only when verifying', () => {
    const bad = { ...dtos[0], id: 1.5, severity: 'huge' };
    expect(compile(ticketDtoSchema)(bad)).toContain('"id":1.5');
    expect(() => compile(ticketDtoSchema, true)(bad)).toThrow(/Response doesn't match the schema/);
    expect(compile(ticketDtoSchema, true)(dtos[1])).toBe(zodJson(ticketDtoSchema, dtos[1]));
  });

  it('verifies under vitest, not in production', () => {
    expect(isTestRun()).toBe(true);
    expect(isTestRun({ NODE_ENV: 'production' })).toBe(false);
  });
});

describe('isoInstant', () => {
  it('is toISOString', () => {
    const samples = [
      0,
      -1,
      1,
      T0,
      86_399_999,
      -86_400_001,
      253402300799999,
      253402300800000,
      -62198755200001,
      8.64e15,
      -8.64e15,
    ];
    for (let i = 0; i < 2000; i++) samples.push(Math.round((Math.random() - 0.3) * 2e13));
    for (const ms of samples) expect(isoInstant(ms)).toBe(new Date(ms).toISOString());
    expect(isoInstant(T0 + 0.5)).toBe(new Date(T0 + 0.5).toISOString());
    expect(() => isoInstant(Number.NaN)).toThrow(RangeError);
    expect(() => isoInstant(8.64e15 + 1)).toThrow(RangeError);
    expect(() => isoInstant(-8.64e15 - 1)).toThrow(RangeError);
  });
});
