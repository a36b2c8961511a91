import { describe, expect, it } from 'vitest';
import enAdmin from '../../../dashboards/console/src/locales/en/admin';
import enCommon from '../../../dashboards/console/src/locales/en/common';
import enDesk from '../../../dashboards/console/src/locales/en/desk';
import enReports from '../../../dashboards/console/src/locales/en/reports';
import zhAdmin from '../../../dashboards/console/src/locales/zh-CN/admin';
import zhCommon from '../../../dashboards/console/src/locales/zh-CN/common';
import zhDesk from '../../../dashboards/console/src/locales/zh-CN/desk';
import zhReports from '../../../dashboards/console/src/locales/zh-CN/reports';

/** Every message's key path and its placeholders ({name}), in order of appearance. */
function flatten(messages: object, prefix = ''): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, value] of Object.entries(messages)) {
    const at = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object') {
      for (const [k, v] of flatten(value, at)) out.set(k, v);
    } else {
      out.set(at, [...String(value).matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort());
    }
  }
  return out;
}

describe('the console messages', () => {
  const files = [
    ['common', zhCommon, enCommon],
    ['desk', zhDesk, enDesk],
    ['admin', zhAdmin, enAdmin],
    ['reports', zhReports, enReports],
  ] as const;

  it.each(files)('%s: English has every key 简体中文 has, with the same placeholders', (_name, zh, en) => {
    const zhKeys = flatten(zh);
    const enKeys = flatten(en);
    expect(zhKeys.size).toBeGreaterThan(10);
    expect([...enKeys.keys()].sort()).toEqual([...zhKeys.keys()].sort());
    for (const [key, placeholders] of zhKeys) expect(enKeys.get(key), key).toEqual(placeholders);
  });

  it('no two files claim the same top-level namespace (they merge flat)', () => {
    const seen = new Map<string, string>();
    for (const [name, zh] of files) {
      for (const ns of Object.keys(zh)) {
        expect(seen.get(ns), `${ns} in ${name}`).toBeUndefined();
        seen.set(ns, name);
      }
    }
  });
});
