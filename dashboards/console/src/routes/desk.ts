import type { RouteRecordRaw } from 'vue-router';

/** The desk, phone, scan and asset pages (filled in by the desk pages). */
export const deskRoutes: RouteRecordRaw[] = [];
