import type { FastifyPluginCallback } from 'fastify'
import type { SignalServerOptions } from './options'
import { mountSignalServer } from './server'

/**
 * The signalling server as a Fastify plugin, to mount in an app of your own:
 *
 *   await app.register(signalServerPlugin, { prefix: '/p2p', maxPeers: 1000 })
 *
 * serves `/p2p/ws`, `/p2p/health`, `/p2p/metrics`, `/p2p/ring` (and the
 * dashboard if given). Its routes, hooks and its own @fastify/websocket live in
 * the plugin's encapsulated context, so the app's other routes are untouched;
 * an app that registers @fastify/websocket itself should mount this plugin in a
 * context without it (Fastify refuses the same decorator twice in one chain).
 * `logger` is the app's: the option is ignored here.
 */
export const signalServerPlugin: FastifyPluginCallback<SignalServerOptions> = (instance, options, done) => {
  try {
    mountSignalServer(instance, options)
    done()
  } catch (error) {
    done(error as Error)
  }
}
