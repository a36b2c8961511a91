import { createI18n } from 'vue-i18n';
import enAdmin from './locales/en/admin';
import enCommon from './locales/en/common';
import enDesk from './locales/en/desk';
import enReports from './locales/en/reports';
import zhAdmin from './locales/zh-CN/admin';
import zhCommon from './locales/zh-CN/common';
import zhDesk from './locales/zh-CN/desk';
import zhReports from './locales/zh-CN/reports';

/**
 * Every string of the console goes through this one layer. Messages are split by page family
 * (common, desk, admin); each file owns its own top-level namespaces, so they merge flat.
 * 简体中文 is the default; the choice is kept in the browser.
 */
export const LOCALES = [
  { id: 'zh-CN', label: '简体中文' },
  { id: 'en', label: 'English' },
] as const;
export type LocaleId = (typeof LOCALES)[number]['id'];

const KEY = 'xiaoer.locale';

function initialLocale(): LocaleId {
  const saved = localStorage.getItem(KEY);
  return LOCALES.some((l) => l.id === saved) ? (saved as LocaleId) : 'zh-CN';
}

const zh = { ...zhCommon, ...zhDesk, ...zhAdmin, ...zhReports };
const en = { ...enCommon, ...enDesk, ...enAdmin, ...enReports };

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zh, en },
  datetimeFormats: {
    'zh-CN': {
      short: { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false },
      long: {
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hour12: false,
      },
      time: { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false },
    },
    en: {
      short: { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false },
      long: {
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hour12: false,
      },
      time: { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false },
    },
  },
});

export function setLocale(id: LocaleId): void {
  i18n.global.locale.value = id;
  localStorage.setItem(KEY, id);
  document.documentElement.lang = id;
}
document.documentElement.lang = i18n.global.locale.value;
