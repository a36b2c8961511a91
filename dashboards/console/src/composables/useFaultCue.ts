import { getCurrentScope, onScopeDispose } from 'vue';

/**
 * The new-fault sound: two short tones made with WebAudio (no audio file to ship, nothing
 * inline). A browser may keep the context suspended until the first click on the page; a wall
 * screen is started with its autoplay policy relaxed, a desk PC plays after the first click.
 */
export function useFaultCue() {
  let context: AudioContext | null = null;

  function ensure(): AudioContext | null {
    if (context) return context;
    const Ctor = window.AudioContext;
    if (!Ctor) return null;
    context = new Ctor();
    return context;
  }

  function tone(ctx: AudioContext, start: number, frequency: number): void {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.22);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start);
    osc.stop(start + 0.25);
  }

  /** Plays the cue; returns whether the audio context was running to play it. */
  async function play(): Promise<boolean> {
    const ctx = ensure();
    if (!ctx) return false;
    if (ctx.state === 'suspended') await ctx.resume().catch(() => {});
    if (ctx.state !== 'running') return false;
    tone(ctx, ctx.currentTime, 880);
    tone(ctx, ctx.currentTime + 0.28, 1175);
    return true;
  }

  /** Unlocks the sound on a user's first click (browsers without an autoplay exemption). */
  function unlock(): void {
    const ctx = ensure();
    if (ctx?.state === 'suspended') void ctx.resume().catch(() => {});
  }

  if (getCurrentScope()) {
    onScopeDispose(() => {
      void context?.close().catch(() => {});
      context = null;
    });
  }
  return { play, unlock };
}
