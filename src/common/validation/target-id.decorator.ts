import { IsCleanText } from './text.decorators.js';

/** A socket id named as a call target: bounded, no control characters, never trimmed. */
export const IsTargetId = () => IsCleanText(1, 128);
