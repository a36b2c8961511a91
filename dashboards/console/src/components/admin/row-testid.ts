import type { Directive } from 'vue';

const PREFIX = 'testid--';

/**
 * el-table renders its own <tr> and passes no attributes to them, only classes. A table's
 * `row-class-name` gives each row the class `testid--<id>` (`rowTestId`); this directive copies
 * it to the row's `data-testid` whenever the table renders rows again (sorting, paging, reloads).
 */
export const vRowTestid: Directive<HTMLElement> = {
  mounted(el) {
    const apply = () => {
      for (const tr of el.querySelectorAll<HTMLTableRowElement>('tr')) {
        const cls = [...tr.classList].find((c) => c.startsWith(PREFIX));
        const id = cls?.slice(PREFIX.length);
        if (id && tr.dataset.testid !== id) tr.dataset.testid = id;
      }
    };
    const observer = new MutationObserver(apply);
    observer.observe(el, { subtree: true, childList: true, attributes: true, attributeFilter: ['class'] });
    observers.set(el, observer);
    apply();
  },
  unmounted(el) {
    observers.get(el)?.disconnect();
    observers.delete(el);
  },
};

const observers = new WeakMap<HTMLElement, MutationObserver>();

/** The row class that `vRowTestid` turns into `data-testid="<id>"`. */
export const rowTestId = (id: string): string => `${PREFIX}${id}`;
