// The session's stdout, handed out command by command (src/workload/armed.ts Lines): what a session
// of the run reads back for each hold, kube-proxy reading and fan-out it asked.
import { describe, it, expect } from '@jest/globals';
import { Lines } from '../../src/workload/armed.js';

// as a node view's session printed it on kube-netcheck-worker (a clock, a kube-proxy reading, a hold), cut into arbitrary pieces
const STREAM = [
  'KNC clock {"lastUpdated":"2026-12-08T01:15:27.8Z","currentTime":"2026-12-08T01:15:27.9Z"}\n',
  'KNC proxy ok synced=1.7966889279e+09 queued=1.7966889278e+09 pe',
  'nding=0\nKNC end 0a1b2c rc=0\nKNC hold i=1 rc=0 body=my-nginx-55b5b9b59c-dltw5 10.244.1.7\n',
  'KNC hold done n=1\nKNC end 3d4e5f rc=0\n',
];

describe("a session's output, command by command", () => {
  it("hands out the lines after the last command's, up to its end line, whatever the pieces", async () => {
    const l = new Lines();
    const sync = l.next(/^KNC end 0a1b2c rc=\d+$/, 1000);
    for (const piece of STREAM) l.feed(piece);
    expect((await sync)!.lines).toEqual([
      expect.stringMatching(/^KNC clock /),
      'KNC proxy ok synced=1.7966889279e+09 queued=1.7966889278e+09 pending=0',
      'KNC end 0a1b2c rc=0',
    ]);
    const hold = await l.next(/^KNC end 3d4e5f rc=\d+$/, 1000);
    expect(hold!.lines).toEqual(['KNC hold i=1 rc=0 body=my-nginx-55b5b9b59c-dltw5 10.244.1.7', 'KNC hold done n=1', 'KNC end 3d4e5f rc=0']);
    // the clock stays visible to seen(), whoever read past it
    expect(l.seen(/^KNC clock /)?.text).toMatch(/currentTime/);
  });
  it('an end line that came before the question is found; one that never comes is undefined at the deadline, its lines left unread', async () => {
    const l = new Lines();
    l.feed(STREAM.join(''));
    expect((await l.next(/^KNC end 3d4e5f /, 1000))!.lines).toHaveLength(6);
    const t0 = Date.now();
    expect(await l.next(/^KNC end ffffff /, 50)).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    l.feed('KNC hold i=1 rc=4 body=\nKNC end ffffff rc=0\n');
    // the late end line is not taken by the timed-out question: the next one finds the lines from where the last answer ended
    expect((await l.next(/^KNC end ffffff /, 1000))!.lines).toEqual(['KNC hold i=1 rc=4 body=', 'KNC end ffffff rc=0']);
  });
  it('a stream that ends without the end line answers undefined at once; its last line without a newline still counts', async () => {
    const l = new Lines();
    const q = l.next(/^KNC end 0a1b2c /, 10_000);
    l.feed('KNC proxy wait synced=?');
    l.close();
    expect(await q).toBeUndefined();
    expect(l.ended).toBe(true);
    expect(l.seen(/^KNC proxy /)?.text).toBe('KNC proxy wait synced=?');
  });
  it("each line carries its arrival time (the hold's duration, the node clock's offset)", async () => {
    let t = 1000;
    const l = new Lines(() => t);
    l.feed('KNC clock {}\n');
    t = 2500;
    l.feed('KNC end aa rc=3\n');
    expect(l.seen(/clock/)?.atMs).toBe(1000);
    expect((await l.next(/^KNC end aa /, 100))!.atMs).toBe(2500);
  });
});
