export { createSignalServer, type RingSnapshot, type StoredReport } from './server'
export { DEFAULTS, DEFAULT_RATE_LIMIT, type RateLimitOptions, type SignalServerOptions } from './options'
export { ERROR_CODES, CLOSE_GOING_AWAY, CLOSE_POLICY_VIOLATION, CLOSE_TOO_BIG, type SignalErrorCode, type JoinedReply } from './protocol'
export { registerDashboard, type DashboardOptions } from './dashboard'
