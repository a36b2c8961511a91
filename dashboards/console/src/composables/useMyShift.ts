import { ref } from 'vue';
import { api } from '../api';
import type { Shift } from '../types';

/** The maintainer's open shift (GET /api/me/shift), with check-in and check-out. */
export function useMyShift() {
  const shift = ref<Shift | null>(null);
  const loaded = ref(false);
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    try {
      shift.value = (await api<{ shift: Shift | null }>('/me/shift')).shift;
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      loaded.value = true;
    }
  }

  async function checkIn(site: string): Promise<void> {
    shift.value = await api<Shift>('/shifts/check-in', { body: { site } });
  }

  async function checkOut(): Promise<void> {
    await api<Shift>('/shifts/check-out', { body: {} });
    shift.value = null;
  }

  void load();
  return { shift, loaded, error, load, checkIn, checkOut };
}
