import { afterEach, describe, expect, it, vi } from 'vitest';

import { markPainted } from './paintMarks';

describe('markPainted', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('marks after the next frame, once per name', () => {
    vi.useFakeTimers();
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => frames.push(cb));
    const mark = vi.spyOn(performance, 'mark');
    markPainted('test:once');
    markPainted('test:once');
    expect(frames).toHaveLength(1);
    expect(mark).not.toHaveBeenCalled();
    frames[0]!(0);
    expect(mark).not.toHaveBeenCalled();
    vi.runAllTimers();
    expect(mark).toHaveBeenCalledTimes(1);
    expect(mark).toHaveBeenCalledWith('test:once');
  });
});
