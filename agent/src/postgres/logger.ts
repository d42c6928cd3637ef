/**
 * The logging this adapter needs. The caller passes one down (usually a child of the agent's JSON logger); message
 * texts are fixed and the data goes in `fields`, so log processors can match on the message.
 */
export interface Logger {
  info(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  error(msg: string, fields?: Readonly<Record<string, unknown>>): void;
}
