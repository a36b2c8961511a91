import type { Ticket, TicketEvent } from '../domain/types.ts';

const EVENT_TITLES: Record<string, string> = {
  raised: '新工单',
  dispatched: '已派单',
  arrived: '已到场',
  repaired: '已维修',
  verified: '已验证',
  closed: '已关闭',
  reopened: '工单重开',
  sla_breached: 'SLA 超时',
  escalated: '升级提醒',
  alarm_cleared: '告警已恢复',
  alarm_repeated: '告警重复',
};

const CLOCK_NAMES: Record<string, string> = { arrival: '到场', repair: '修复' };

const shanghaiTime = (ms: number) =>
  new Date(ms).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

export function eventTitle(event: TicketEvent): string {
  return EVENT_TITLES[event.type] ?? event.type;
}

/** The generic webhook body: the ticket and the event, as the API shows them. */
export function genericBody(ticket: Ticket, event: TicketEvent) {
  return { type: `ticket.${event.type}`, ticket, event };
}

/**
 * One markdown message for the group robots. Both WeCom and DingTalk render this subset
 * (headings, bold, quotes, links); WeCom's limit is 4096 bytes, so free text is kept short.
 */
export function ticketMarkdown(
  ticket: Ticket,
  event: TicketEvent,
  consoleUrl?: string,
): { title: string; text: string } {
  const title = `【${eventTitle(event)}】#${ticket.id} ${ticket.site} ${ticket.assetId}`;
  const lines = [
    `### ${title}`,
    `> 故障：**${ticket.fault}**（${ticket.category}，${ticket.severity}）`,
    `> 发现：${shanghaiTime(ticket.detectedAt)}`,
    `> 到场时限：${shanghaiTime(ticket.arrival.dueAt)}　修复时限：${shanghaiTime(ticket.repair.dueAt)}`,
  ];
  if (event.type === 'sla_breached') {
    const clock = String(event.detail.clock ?? '');
    lines.push(`> **${CLOCK_NAMES[clock] ?? clock}超时**：${shanghaiTime(event.at)}`);
  }
  if (ticket.assignee) lines.push(`> 维修人：${ticket.assignee}`);
  if (consoleUrl) lines.push(`[查看工单](${consoleUrl.replace(/\/$/, '')}/tickets/${ticket.id})`);
  return { title, text: lines.join('\n') };
}
