import { describe, expect, it } from 'vitest';
import { Directory } from '../../../src/config/directory.ts';
import type { Ticket, TicketEvent } from '../../../src/domain/types.ts';
import type { WebhookConfig } from '../../../src/notify/config.ts';
import { ticketMarkdown } from '../../../src/notify/format.ts';
import { prepareRequest, signDingTalk } from '../../../src/notify/webhook-sender.ts';
import { TicketPresenter } from '../../../src/tickets/ticket-dto.ts';
import { exampleConfig } from '../../helpers/domain.ts';

const T0 = Date.parse('2026-11-26T01:00:00Z'); // 09:00 in Shanghai
const ticket: Ticket = {
  id: 42,
  workOrder: 'XC-20261126-003',
  site: 'xincheng',
  assetId: 'leak-b1-riser',
  category: 'plumbing',
  fault: 'leak',
  meaning: 'condition',
  severity: 'critical',
  status: 'raised',
  ruleId: 'water-leak',
  alarmActive: true,
  raisedAt: T0,
  detectedAt: T0,
  arrival: { dueAt: T0 + 300_000 },
  repair: { dueAt: T0 + 3_600_000 },
  updatedAt: T0,
  flapping: false,
  reopenCount: 0,
  escalation: { arrival: 0, repair: 0 },
};
const domainTicket: Ticket = ticket;
const presenter = new TicketPresenter({
  directory: new Directory(exampleConfig()),
  clock: { now: () => T0 },
});
const domainRaised: TicketEvent = {
  id: 1,
  ticketId: 42,
  at: T0,
  actor: 'system:rules',
  type: 'raised',
  detail: {},
};
const dto = presenter.ticket(domainTicket);
const raised = presenter.event(domainRaised);
const hook = (kind: WebhookConfig['kind'], extra: Partial<WebhookConfig> = {}): WebhookConfig => ({
  id: kind,
  kind,
  url: `https://robot.example/${kind}/send?key=abc`,
  events: ['raised'],
  timeoutMs: 1000,
  maxAttempts: 3,
  retryBaseMs: 10,
  deadAfterMinutes: 30,
  retryMaxMs: 1000,
  ...extra,
});

describe('webhook formats', () => {
  it('signs DingTalk requests as DingTalk documents: base64(HMAC-SHA256(timestamp\\nsecret)), URL-encoded', () => {
    // Reference value computed independently with Python's hmac/base64/urllib.
    const url = signDingTalk(
      'https://oapi.dingtalk.com/robot/send?access_token=t',
      'SECtest-secret',
      1700000000000,
    );
    expect(url).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign=LC7hxZ4wslL%2BP7j7gu1hoQ%2BwzByekL%2ByWgiUMekZs0g%3D',
    );
    expect(signDingTalk('https://x/y?a=1', undefined, 1)).toBe('https://x/y?a=1');
  });

  it('builds WeCom and DingTalk markdown and the generic JSON body', () => {
    const wecom = prepareRequest(hook('wecom'), dto, raised, T0);
    expect(wecom.body).toEqual({
      msgtype: 'markdown',
      markdown: { content: expect.stringContaining('【新工单】#42') },
    });
    const ding = prepareRequest(hook('dingtalk', { secret: 'SECx' }), dto, raised, T0);
    expect(ding.url).toContain('&timestamp=');
    expect(ding.body).toMatchObject({
      msgtype: 'markdown',
      markdown: { title: '【新工单】#42 XC-20261126-003 新城大厦 Xincheng Tower B1 riser leak sensor' },
    });
    const generic = prepareRequest(hook('generic'), dto, raised, T0);
    expect(generic.body).toEqual({ type: 'ticket.raised', version: 1, ticket: dto, event: raised });
  });

  it('writes deadlines in Shanghai time and names the breached clock', () => {
    const breach = presenter.event({
      ...domainRaised,
      type: 'sla_breached',
      at: T0 + 300_000,
      detail: { clock: 'arrival' },
    });
    const { text } = ticketMarkdown(dto, breach, 'https://desk.example/');
    expect(text).toContain('到场时限：2026/11/26 09:05:00');
    expect(text).toContain('**到场超时**：2026/11/26 09:05:00');
    expect(text).toContain('[查看工单](https://desk.example/tickets/42)');
    expect(Buffer.byteLength(text)).toBeLessThan(4096);
  });

  it("puts the knowledge base's hint on one line, at most 300 characters, on the events that send someone", () => {
    const hint = '智能门锁离线：先检查门锁处网线是否松动';
    const { text } = ticketMarkdown(dto, raised, 'https://desk.example', hint);
    expect(text).toContain(`> 提示：${hint}`);
    expect(text.split('\n').at(-1)).toBe('[查看工单](https://desk.example/tickets/42)');
    for (const type of ['dispatched', 'escalated', 'reopened'] as const)
      expect(ticketMarkdown(dto, { ...raised, type }, undefined, hint).text).toContain('> 提示：');
    // Not on events that send nobody anywhere.
    for (const type of ['verified', 'sla_breached', 'closed'] as const)
      expect(ticketMarkdown(dto, { ...raised, type }, undefined, hint).text).not.toContain('提示');
    const long = ticketMarkdown(dto, raised, undefined, `第一行\n第二行 ${'长'.repeat(400)}`).text;
    const line = long.split('\n').find((l) => l.startsWith('> 提示：')) ?? '';
    expect(line.startsWith('> 提示：第一行 第二行 长')).toBe(true);
    expect(line.length).toBe('> 提示：'.length + 300);
    expect(ticketMarkdown(dto, raised).text).not.toContain('提示');
  });

  it('says why a ticket escalated, nobody on shift included', () => {
    const escalated = {
      ...raised,
      type: 'escalated' as const,
      detail: { reason: 'nobody_on_shift', level: 1 },
    };
    expect(ticketMarkdown(dto, escalated).text).toContain('> 升级原因：现场无人值班');
    const wecom = prepareRequest(hook('wecom'), dto, escalated, T0, 'https://desk.example', '先关阀');
    expect((wecom.body as { markdown: { content: string } }).markdown.content).toContain('> 提示：先关阀');
    // The generic JSON carries the ticket itself, not a rendering of it.
    const generic = prepareRequest(hook('generic'), dto, escalated, T0, undefined, '先关阀');
    expect(JSON.stringify(generic.body)).not.toContain('先关阀');
  });
});
