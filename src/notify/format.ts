import { KB_HINT_MAX_CHARS, type TicketEventType } from '../domain/types.ts';
import type { TicketDto, TicketEventDto } from '../tickets/ticket-dto.ts';

/** A title for every event type: the map is exhaustive, so a new type fails the type-check here. */
const EVENT_TITLES: Record<TicketEventType, string> = {
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
  flapping: '告警频繁波动',
  linked: '并入故障总单',
  detached: '转为独立工单',
  sla_paused: '计时暂停',
  sla_resumed: '计时恢复',
  callback_recorded: '回访已记录',
};

const CLOCK_NAMES: Record<string, string> = { arrival: '到场', repair: '修复' };
const ESCALATION_REASONS: Record<string, string> = {
  near: '即将超时',
  breached: '已超时',
  nobody_on_shift: '现场无人值班',
};

/** The events whose robot message carries the knowledge base's hint: someone is about to go there. */
export const HINT_EVENTS: ReadonlySet<TicketEventType> = new Set<TicketEventType>([
  'raised',
  'dispatched',
  'escalated',
  'reopened',
]);

/**
 * The knowledge base's best hint for a fault (category and fault code), if it has one. The
 * notifier asks it; it is given by whoever holds the knowledge base (the App).
 */
export type HintLookup = (category: string, fault: string) => Promise<string | undefined>;

const shanghaiTime = (iso: string) =>
  new Date(iso).toLocaleString('zh-CN', { timeZone: 'Asia/Shanghai', hour12: false });

/** Markdown would end the quote at a line break: a hint stays on its line. */
const oneLine = (text: string) => text.replace(/\s*[\r\n]+\s*/g, ' ').trim();

export function eventTitle(event: Pick<TicketEventDto, 'type'>): string {
  return EVENT_TITLES[event.type];
}

/** The envelope of MQTT-out and generic webhooks: one versioned shape, the API's ticket DTO inside. */
export function ticketMessage(ticket: TicketDto, event: TicketEventDto) {
  return { type: `ticket.${event.type}`, version: 1, ticket, event };
}

/** "温度 29.5 °C（上限 28）" style: the reading that raised the ticket and the limit it crossed. */
function triggerLine(trigger: NonNullable<TicketDto['trigger']>): string {
  const what = trigger.metric
    ? `${trigger.metric} = ${String(trigger.value)}${trigger.unit ? ` ${trigger.unit}` : ''}`
    : `事件 ${trigger.code ?? ''}`;
  const limits = Object.entries(trigger.limit ?? {}).map(([k, v]) => `${k} ${String(v)}`);
  return `> 触发：${what}${limits.length > 0 ? `（阈值 ${limits.join('，')}）` : ''}`;
}

/**
 * One markdown message for the group robots. Both WeCom and DingTalk render this subset
 * (headings, bold, quotes, links); WeCom's limit is 4096 bytes, so free text is kept short.
 * Times are shown in Asia/Shanghai, the bureau's time.
 */
export function ticketMarkdown(
  ticket: TicketDto,
  event: TicketEventDto,
  consoleUrl?: string,
  hint?: string,
): { title: string; text: string } {
  // The work-order number next to the id: the one people say on the phone.
  const title =
    `【${eventTitle(event)}】#${ticket.id} ${ticket.workOrder} ${ticket.siteName} ${ticket.assetName}`.slice(
      0,
      200,
    );
  const deadlines = [
    ticket.arrival.dueAt ? `到场时限：${shanghaiTime(ticket.arrival.dueAt)}` : undefined,
    ticket.repair.dueAt ? `修复时限：${shanghaiTime(ticket.repair.dueAt)}` : undefined,
  ].filter(Boolean);
  const lines = [
    `### ${title}`,
    `> 故障：**${ticket.fault}**（${ticket.categoryName}，${ticket.severity}）`,
    ...(ticket.location ? [`> 位置：${ticket.location.slice(0, 200)}`] : []),
    ...(ticket.trigger ? [triggerLine(ticket.trigger)] : []),
    `> 发现：${shanghaiTime(ticket.detectedAt)}`,
    `> ${deadlines.join('　')}`,
  ];
  if (event.type === 'sla_breached') {
    const clock = String(event.detail.clock ?? '');
    lines.push(`> **${CLOCK_NAMES[clock] ?? clock}超时**：${shanghaiTime(event.at)}`);
  }
  if (event.type === 'escalated') {
    const reason = String(event.detail.reason ?? '');
    lines.push(`> 升级原因：${ESCALATION_REASONS[reason] ?? reason}`);
  }
  if (event.type === 'callback_recorded') {
    const answer = event.detail.reached === true ? `满意度 ${String(event.detail.score)}/5` : '未联系上';
    const remark =
      typeof event.detail.remark === 'string' ? `，${oneLine(event.detail.remark).slice(0, 200)}` : '';
    lines.push(`> 回访：${answer}${remark}`);
  }
  if (ticket.assignee) lines.push(`> 维修人：${ticket.assignee}`);
  if (hint && HINT_EVENTS.has(event.type)) lines.push(`> 提示：${oneLine(hint).slice(0, KB_HINT_MAX_CHARS)}`);
  if (consoleUrl) lines.push(`[查看工单](${consoleUrl.replace(/\/$/, '')}/tickets/${ticket.id})`);
  return { title, text: lines.join('\n') };
}
