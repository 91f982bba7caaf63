import { describe, expect, it } from 'vitest';
import { Conversation } from '../../src/engine/conversation.js';

describe('conversation text the database cannot store', () => {
  it('a transcript or reply with NUL or an unpaired surrogate is stored with U+FFFD instead', () => {
    const conversation = new Conversation(0);
    const user = conversation.addUser('user-1', 'hi\u0000 there \ud800', 0, {});
    const reply = conversation.addAssistant('user-1-x-1', 'ok\u0000', 1, {}, false);
    expect(user.text).toBe('hi\ufffd there \ufffd');
    expect(reply.text).toBe('ok\ufffd');
    // A paired surrogate (an emoji) is kept as it is.
    expect(conversation.addUser('user-2', 'ok 👍', 2, {}).text).toBe('ok 👍');
    expect(conversation.userTurns).toBe(2);
  });
});
