import { cutPage } from './page.js';

describe('cutPage', () => {
  const cursorOf = (last: number) => `after-${last}`;

  it('keeps the first limit rows and points past the last of them when a row more was read', () => {
    expect(cutPage([1, 2, 3], 2, cursorOf)).toEqual({ items: [1, 2], nextCursor: 'after-2' });
  });

  it('has no next page when no row more was read', () => {
    expect(cutPage([1, 2], 2, cursorOf)).toEqual({ items: [1, 2], nextCursor: null });
    expect(cutPage([], 2, cursorOf)).toEqual({ items: [], nextCursor: null });
  });
});
