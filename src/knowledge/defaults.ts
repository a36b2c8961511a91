import type { KbEntry } from '../domain/types.ts';

type DefaultEntry = Pick<KbEntry, 'category' | 'fault' | 'title' | 'hint' | 'body'>;

/**
 * The knowledge base on a first start: the desk's most common faults, for the fault codes of the
 * example rules (config/example.yaml). Only entries whose category is configured are added, once;
 * admins edit or delete them like any other.
 */
export const DEFAULT_ENTRIES: readonly DefaultEntry[] = [
  {
    category: 'lock',
    fault: 'offline',
    title: '智能门锁离线 Smart lock offline',
    hint: '智能门锁离线：先检查门锁处网线是否松动',
    body: '多数离线是门锁处网线松动或水晶头接触不良。重新插紧网线，观察门锁指示灯；仍离线再检查交换机端口和供电。',
  },
  {
    category: 'lock',
    fault: 'jammed',
    title: '门锁未锁到位 Lock not fully locked',
    hint: '门锁未锁到位：先检查门框锁舌孔是否对正、门是否下沉',
    body: '门扇下沉或锁舌孔偏位会使锁舌无法完全伸出。调整合页或锁扣板后，手动开关门三次确认。',
  },
  {
    category: 'lock',
    fault: 'battery_low',
    title: '门锁电量低 Lock battery low',
    hint: '门锁电量低：携带同型号电池（4 节 AA），更换后确认电量读数恢复',
    body: '电量耗尽后门锁无法电子开锁。更换全部电池，不要新旧混用。',
  },
  {
    category: 'plumbing',
    fault: 'leak',
    title: '漏水报警 Water leak',
    hint: '漏水报警：先关闭就近阀门，再查找漏点；探头擦干后报警才会恢复',
    body: '到场先关阀止损，拍照记录漏点。修复后擦干探头，传感器持续无水后工单自动验证。',
  },
  {
    category: 'plumbing',
    fault: 'no_data',
    title: '漏水探头无数据 Leak sensor silent',
    hint: '漏水探头无数据：多为电池耗尽或离网关太远，先更换电池',
    body: '电池供电的探头约每 50 分钟上报一次心跳。换电池后按一下探头按键，确认网关收到数据。',
  },
  {
    category: 'hvac',
    fault: 'over_temperature',
    title: '办公区温度过高 Office too warm',
    hint: '温度过高：先检查温控器设定与模式，再检查风口是否被遮挡、滤网是否脏堵',
    body: '确认温控器处于制冷模式且设定合理；检查风机运行、滤网和冷冻水供水温度。',
  },
];
