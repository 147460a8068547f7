import { describe, expect, it } from 'vitest';

import { EventParser, readEvents } from './sse';

describe('the event stream parser', () => {
  it('returns events only once they are complete, across chunks', () => {
    const parser = new EventParser();
    expect(parser.push('data: {"a"')).toEqual([]);
    expect(parser.push(':1}\n')).toEqual([]);
    expect(parser.push('\ndata: 2\n\nda')).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'message', data: '2' },
    ]);
    expect(parser.push('ta: 3\n\n')).toEqual([{ event: 'message', data: '3' }]);
  });

  it('skips comments, joins data lines, reads CRLF and named events', () => {
    const parser = new EventParser();
    expect(parser.push(': keep-alive\r\n\r\nevent: done\r\ndata: one\r\ndata:two\r\n\r\n')).toEqual([
      { event: 'done', data: 'one\ntwo' },
    ]);
  });

  it('reads a body to its end and drops an unterminated last event', async () => {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('data: a\n\n: keep-alive\n\ndata: b\n\n'));
        controller.enqueue(encoder.encode('data: cut'));
        controller.close();
      },
    });
    const seen: string[] = [];
    for await (const event of readEvents(body)) seen.push(event.data);
    expect(seen).toEqual(['a', 'b']);
  });
});
