/** In-memory transport for tests and simulation; see memory/channel.ts for the channel contract. */
export * from './memory/index'
