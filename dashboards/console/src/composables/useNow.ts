import { getCurrentScope, onScopeDispose, type Ref, readonly, ref } from 'vue';

/** One clock for every countdown on the page: a single timer, started by the first user, stopped by the last. */
const now = ref(Date.now());
let users = 0;
let timer: ReturnType<typeof setTimeout> | undefined;

function tick(): void {
  now.value = Date.now();
  // Ticks land just after each whole second, so every countdown on the page changes together.
  timer = setTimeout(tick, 1000 - (now.value % 1000) + 5);
}

/** The client's time in epoch ms, updated every second while a component uses it. */
export function useNow(): Readonly<Ref<number>> {
  users += 1;
  if (timer === undefined) tick();
  if (getCurrentScope()) {
    onScopeDispose(() => {
      users -= 1;
      if (users === 0 && timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
      }
    });
  }
  return readonly(now);
}
