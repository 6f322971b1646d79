import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv'
import {
  ID_PATTERN, MAX_REPORTED_FINGERS, MAX_REPORTED_SUCCESSORS, type JoinMessage, type LeaveMessage, type ReportMessage, type SignalMessage,
} from '../src/protocol/signal-server'

/**
 * JSON Schemas for every client → server message, compiled once by Ajv.
 * Unknown extra fields are ignored (never copied anywhere), so a client-sent
 * `from` or `__proto__` simply has no effect.
 */
const id = { type: 'string', pattern: ID_PATTERN } as const


export const envelopeSchema = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string' } },
} as const

/** Unpadded base64url of exactly 32 (key) and 64 (signature) bytes. */
const key = { type: 'string', pattern: '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$' } as const
const sig = { type: 'string', pattern: '^[A-Za-z0-9_-]{85}[AQgw]$' } as const

export const joinSchema = {
  type: 'object',
  required: ['type', 'id', 'key', 'sig'],
  properties: { type: { const: 'join' }, id, key, sig },
} as const

export const signalSchema = {
  type: 'object',
  required: ['type', 'to', 'data'],
  properties: { type: { const: 'signal' }, to: id, data: {} },
} as const

export const leaveSchema = {
  type: 'object',
  required: ['type'],
  properties: { type: { const: 'leave' } },
} as const

/** Extension (not in the core contract): a joined peer reports its ring state for /ring and the dashboard. */
export const reportSchema = {
  type: 'object',
  required: ['type', 'successors', 'predecessor', 'fingers'],
  properties: {
    type: { const: 'report' },
    successors: { type: 'array', maxItems: MAX_REPORTED_SUCCESSORS, items: id },
    predecessor: { anyOf: [{ type: 'null' }, id] },
    fingers: {
      type: 'array',
      maxItems: MAX_REPORTED_FINGERS,
      items: {
        type: 'object',
        required: ['row', 'id'],
        properties: { row: { type: 'integer', minimum: 0, maximum: 47 }, id },
      },
    },
  },
} as const


// The schemas above are fixed and covered by tests, so Ajv need not compile its
// draft-07 meta-schema to check them at start-up (that alone costs ~3 MB of RSS).
const ajv = new Ajv({ allErrors: false, strict: true, meta: false, validateSchema: false })

export const validateEnvelope = ajv.compile<{ type: string }>(envelopeSchema)
export const validateJoin = ajv.compile<JoinMessage>(joinSchema)
export const validateSignal = ajv.compile<SignalMessage>(signalSchema)
export const validateLeave = ajv.compile<LeaveMessage>(leaveSchema)
export const validateReport = ajv.compile<ReportMessage>(reportSchema)

const FIELD_SHAPES: Record<string, string> = { '/key': 'base64url of a 32-byte Ed25519 public key', '/sig': 'base64url of a 64-byte Ed25519 signature' }

/** A malformed id (any field that holds one) is BAD_ID; anything else, a malformed key or signature included, is BAD_MESSAGE. */
export function describeFailure(validate: ValidateFunction): { badId: boolean; text: string } {
  const errors: ErrorObject[] = validate.errors ?? []
  const isBadId = (e: ErrorObject) => e.keyword === 'pattern' && FIELD_SHAPES[e.instancePath] === undefined
  const badId = errors.some(isBadId)
  const first = errors.find(isBadId) ?? errors[0]
  if (!first) return { badId, text: 'invalid message' }
  const where = first.instancePath === '' ? 'message' : first.instancePath.slice(1).replace(/\//g, '.')
  const text = badId
    ? `${where} must be 12 lowercase hex characters`
    : first.keyword === 'pattern' && FIELD_SHAPES[first.instancePath] !== undefined
      ? `${where} must be ${FIELD_SHAPES[first.instancePath]}`
      : `${where} ${first.message ?? 'is invalid'}`
  return { badId, text: text.slice(0, 200) }
}
