import { type ECharts, init } from 'echarts/core';
import { onBeforeUnmount, onMounted, type Ref, watch } from 'vue';

/** An ECharts instance on an element, resized with it and redrawn when its option changes. */
export function useChart(el: Ref<HTMLDivElement | null>, option: () => Record<string, unknown>): void {
  let chart: ECharts | null = null;
  let observer: ResizeObserver | null = null;
  const render = () => chart?.setOption(option(), true);
  onMounted(() => {
    if (!el.value) return;
    chart = init(el.value, undefined, { renderer: 'canvas' });
    render();
    observer = new ResizeObserver(() => chart?.resize());
    observer.observe(el.value);
  });
  watch(option, render);
  onBeforeUnmount(() => {
    observer?.disconnect();
    chart?.dispose();
    chart = null;
  });
}
