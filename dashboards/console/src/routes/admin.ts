import type { RouteRecordRaw } from 'vue-router';

/** The admin pages. */
export const adminRoutes: RouteRecordRaw[] = [];
